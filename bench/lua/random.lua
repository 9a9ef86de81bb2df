-- GET one of the 10,000 small files at random: /small/0000.html .. 9999.
math.randomseed(42)
local paths = {}
for i = 0, 9999 do
   paths[i + 1] = string.format("/small/%04d.html", i)
end
request = function()
   return wrk.format("GET", paths[math.random(1, 10000)])
end
