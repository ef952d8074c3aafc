// Command go-fanout is the fan-out benchmark's Go side (bench/fanout.ts): the receiving
// members for every server, and the Go reference's own fan-out (a loop of Sock.Notify).
//
// Each mode prints READY (and the serve mode its address), then one JSON object on stdout,
// and exits 0; or prints the error on stderr and exits 1. Every mode is bounded in time.
//
//	go-fanout recv --addr HOST:PORT [--conns 1000] [--count 1000] [--timeout 60s]
//	    Opens --conns raw connections (handshake done) and prints READY; then reads until every
//	    connection has received --count notifications (heartbeats are skipped), and prints
//	    {"frames":N,"end_ns":T}: T is the wall clock when the last one arrived.
//	go-fanout serve [--conns 1000] [--count 1000] [--size 64]
//	    The Go reference: a gotalk server on 127.0.0.1:0 (prints READY tcp://ADDR), which once
//	    --conns sockets are connected and a line arrives on stdin sends --count notifications
//	    (a JSON string of --size bytes), each one by a loop of Sock.Notify over every socket,
//	    and prints {"start_ns":T}.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rsms/gotalk"
)

func main() {
	if len(os.Args) < 2 {
		fail(errors.New("usage: go-fanout recv|serve [flags]"))
	}
	var err error
	switch os.Args[1] {
	case "recv":
		err = runRecv(os.Args[2:])
	case "serve":
		err = runServe(os.Args[2:])
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "go-fanout:", err)
	os.Exit(1)
}

func printJSON(v any) {
	b, _ := json.Marshal(v)
	fmt.Println(string(b))
}

// hexValue parses n lowercase or uppercase hex digits.
func hexValue(b []byte) (int, error) {
	v := 0
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | int(c-'0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | int(c-'a'+10)
		case c >= 'A' && c <= 'F':
			v = v<<4 | int(c-'A'+10)
		default:
			return 0, fmt.Errorf("bad hex digit %q", c)
		}
	}
	return v, nil
}

// readNotifications reads frames from r until count notifications arrived (heartbeats are
// skipped; anything else is an error).
func readNotifications(r *bufio.Reader, count int) error {
	head := make([]byte, 13)
	for got := 0; got < count; {
		t, err := r.ReadByte()
		if err != nil {
			return err
		}
		switch t {
		case 'h': // load (4) + time (8)
			if _, err := io.ReadFull(r, head[:12]); err != nil {
				return err
			}
		case 'n':
			if _, err := io.ReadFull(r, head[:3]); err != nil {
				return err
			}
			nameLen, err := hexValue(head[:3])
			if err != nil {
				return err
			}
			if _, err := r.Discard(nameLen); err != nil {
				return err
			}
			if _, err := io.ReadFull(r, head[:8]); err != nil {
				return err
			}
			size, err := hexValue(head[:8])
			if err != nil {
				return err
			}
			if _, err := r.Discard(size); err != nil {
				return err
			}
			got++
		default:
			return fmt.Errorf("unexpected frame type %q", t)
		}
	}
	return nil
}

func runRecv(args []string) error {
	fs := flag.NewFlagSet("recv", flag.ExitOnError)
	addr := fs.String("addr", "", "server address")
	conns := fs.Int("conns", 1000, "connections")
	count := fs.Int("count", 1000, "notifications per connection")
	timeout := fs.Duration("timeout", 60*time.Second, "give up after")
	fs.Parse(args)
	deadline := time.Now().Add(*timeout)
	readers := make([]*bufio.Reader, *conns)
	sockets := make([]net.Conn, *conns)
	for i := range sockets {
		c, err := net.DialTimeout("tcp", *addr, 10*time.Second)
		if err != nil {
			return err
		}
		c.SetDeadline(deadline)
		if _, err := c.Write([]byte("01")); err != nil {
			return err
		}
		sockets[i] = c
		readers[i] = bufio.NewReaderSize(c, 64*1024)
	}
	for i, r := range readers {
		hs := make([]byte, 2)
		if _, err := io.ReadFull(r, hs); err != nil || string(hs) != "01" {
			return fmt.Errorf("connection %d: handshake %q: %v", i, hs, err)
		}
	}
	fmt.Println("READY")
	var wg sync.WaitGroup
	var last atomic.Int64
	var firstErr atomic.Value
	for i := range readers {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if err := readNotifications(readers[i], *count); err != nil {
				firstErr.CompareAndSwap(nil, fmt.Errorf("connection %d: %w", i, err))
				return
			}
			now := time.Now().UnixNano()
			for {
				prev := last.Load()
				if now <= prev || last.CompareAndSwap(prev, now) {
					break
				}
			}
		}(i)
	}
	wg.Wait()
	for _, c := range sockets {
		c.Close()
	}
	if err, _ := firstErr.Load().(error); err != nil {
		return err
	}
	printJSON(map[string]any{"frames": *conns * *count, "end_ns": last.Load()})
	return nil
}

func runServe(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	conns := fs.Int("conns", 1000, "sockets to wait for")
	count := fs.Int("count", 1000, "notifications")
	size := fs.Int("size", 64, "payload bytes (a JSON string)")
	fs.Parse(args)
	s, err := gotalk.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	var mu sync.Mutex
	socks := make([]*gotalk.Sock, 0, *conns)
	all := make(chan struct{})
	s.AcceptHandler = func(sock *gotalk.Sock) {
		mu.Lock()
		defer mu.Unlock()
		socks = append(socks, sock)
		if len(socks) == *conns {
			close(all)
		}
	}
	go s.Accept()
	fmt.Printf("READY tcp://%s\n", s.Addr())
	// The payload: a JSON string of --size bytes, its quotes included.
	value := strings.Repeat("x", *size-2)
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		return err
	}
	select {
	case <-all:
	case <-time.After(30 * time.Second):
		return errors.New("the receivers did not all connect")
	}
	start := time.Now().UnixNano()
	for i := 0; i < *count; i++ {
		for _, sock := range socks {
			if err := sock.Notify("n", value); err != nil {
				return err
			}
		}
	}
	printJSON(map[string]any{"start_ns": start})
	// Stay until the receivers hang up (they close their connections when done).
	bufio.NewReader(os.Stdin).ReadString('\n')
	return nil
}
