-- 16 GET requests per write (wrk counts each response).
local depth = 16
init = function(args)
   local r = {}
   for i = 1, depth do
      r[i] = wrk.format("GET", "/index.html")
   end
   req = table.concat(r)
end
request = function()
   return req
end
