// The peer for the POST /echo scenario: Go's net/http with a handler that
// answers {"received": <body>} for a valid JSON body, and writes one access
// log line per request into a buffer flushed once a second (as httpserver's
// log thread does), so both servers pay for logging alike.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"time"
)

var (
	logMu  sync.Mutex
	logBuf *bufio.Writer
)

func echo(w http.ResponseWriter, r *http.Request) {
	started := time.Now()
	status := http.StatusOK
	body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	w.Header().Set("Content-Type", "application/json")
	if r.Method != http.MethodPost {
		status = http.StatusMethodNotAllowed
		w.WriteHeader(status)
	} else if err != nil || !json.Valid(body) {
		status = http.StatusBadRequest
		w.WriteHeader(status)
		io.WriteString(w, `{"error": "request body is not valid JSON"}`)
	} else {
		out := make([]byte, 0, len(body)+16)
		out = append(out, `{"received": `...)
		out = append(out, body...)
		out = append(out, '}')
		w.Write(out)
	}
	logMu.Lock()
	fmt.Fprintf(logBuf, "[%s] %s - %s %s - %d - %dms\n", started.Format("2006-01-02 15:04:05"),
		r.RemoteAddr, r.Method, r.URL.RequestURI(), status, time.Since(started).Milliseconds())
	logMu.Unlock()
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: echo ADDR LOGFILE")
		os.Exit(2)
	}
	f, err := os.Create(os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	logBuf = bufio.NewWriterSize(f, 1<<20)
	go func() {
		for range time.Tick(time.Second) {
			logMu.Lock()
			logBuf.Flush()
			logMu.Unlock()
		}
	}()
	http.HandleFunc("/echo", echo)
	if err := http.ListenAndServe(os.Args[1], nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
