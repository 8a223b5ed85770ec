package webtest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// Trickled is what a server answered to a body sent slowly.
type Trickled struct {
	Status  int
	Body    string
	Sent    int           // body bytes written before the answer came or the connection closed
	Elapsed time.Duration // from the first body byte to the answer
}

// Trickle sends a request to addr (host:port) with Host host, headers hdr
// and body, writing the body one byte every interval, and reads the answer,
// which may come while the body is still being sent (a server cutting it
// off). It fails the test if no answer comes within limit.
func Trickle(t testing.TB, addr, host, method, path string, hdr http.Header, body []byte, interval, limit time.Duration) Trickled {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(limit))
	head := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\nConnection: close\r\n", method, path, host, len(body))
	for k, vs := range hdr {
		for _, v := range vs {
			head += k + ": " + v + "\r\n"
		}
	}
	if _, err := io.WriteString(conn, head+"\r\n"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	sent := make(chan int, 1)
	stop := make(chan struct{})
	go func() {
		n := 0
		defer func() { sent <- n }()
		for i := range body {
			select {
			case <-stop:
				return
			case <-time.After(interval):
			}
			if _, err := conn.Write(body[i : i+1]); err != nil {
				return
			}
			n++
		}
	}()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	elapsed := time.Since(start)
	close(stop)
	if err != nil {
		t.Fatalf("%s %s%s with a body of %d bytes at one per %s: no answer within %s: %v", method, host, path, len(body), interval, limit, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return Trickled{Status: resp.StatusCode, Body: string(b), Sent: <-sent, Elapsed: elapsed}
}
