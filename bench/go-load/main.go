// Command go-load is the load generator of bench/bench.ts: the same Go program drives every
// server (the Go reference and ours on Deno, Bun and Node), so that the numbers compare.
//
// Each mode prints one JSON object on stdout (progress lines for the memory modes first) and
// exits 0, or prints the error on stderr and exits 1. Every mode is bounded in time.
//
//	go-load pipeline --addr HOST:PORT [--conns 1] [--inflight 64] [--size 16] [--op echo]
//	                 [--warmup 1s] [--duration 3s] [--ws /gotalk/ [--coalesce]]
//	    Raw-socket pipelined framer: per connection one writer and one reader goroutine keep
//	    --inflight buffer requests outstanding; requests written back to back are coalesced
//	    into one write. Reports requests/s, MB/s (payload bytes each way) and latency. With
//	    --ws over WebSocket (ws.go): each request as two messages, header and payload, as
//	    gotalk.js sends them, or as one with --coalesce.
//	go-load stream --addr HOST:PORT [--bytes 256MiB] [--part 64KiB] [--window 4MiB]
//	               [--warmup-bytes 32MiB]
//	    One streaming request to stream-echo, parts written while the echoed parts are read,
//	    with at most --window bytes sent and not yet echoed (gotalk has no flow control).
//	go-load gotalk-client --addr HOST:PORT [--conns 1] [--inflight 64] [--size 16]
//	                      [--warmup 1s] [--duration 3s]
//	    gotalk's own client (Sock.BufferRequest), one goroutine per request in flight.
//	go-load idle --addr HOST:PORT [--conns 1000] [--hold 2s] [--ws /gotalk/]
//	    Opens --conns connections (handshake done), prints {"ready":N}, holds them, closes.
//	go-load sleepers --addr HOST:PORT [--conns 10] [--inflight 1000] [--ms 2000]
//	    Sends conns x inflight `sleep` requests at once, prints {"sent":N}, waits for answers.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/bits"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rsms/gotalk"
)

func main() {
	if len(os.Args) < 2 {
		fail(errors.New("usage: go-load pipeline|stream|gotalk-client|idle|sleepers [flags]"))
	}
	mode, args := os.Args[1], os.Args[2:]
	var err error
	var out any
	switch mode {
	case "pipeline":
		out, err = runPipeline(args)
	case "stream":
		out, err = runStream(args)
	case "gotalk-client":
		out, err = runGotalkClient(args)
	case "idle":
		out, err = runIdle(args)
	case "sleepers":
		out, err = runSleepers(args)
	default:
		err = fmt.Errorf("unknown mode %q", mode)
	}
	if err != nil {
		fail(err)
	}
	emit(out)
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "go-load: %v\n", err)
	os.Exit(1)
}

func emit(v any) {
	b, _ := json.Marshal(v)
	os.Stdout.Write(append(b, '\n'))
}

// sizeFlag parses sizes such as 16, 1KiB, 64KiB, 256MiB.
type sizeFlag int64

func (s *sizeFlag) String() string { return strconv.FormatInt(int64(*s), 10) }
func (s *sizeFlag) Set(v string) error {
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if strings.HasSuffix(v, u.suffix) {
			mult, v = u.mult, strings.TrimSuffix(v, u.suffix)
			break
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return fmt.Errorf("bad size %q", v)
	}
	*s = sizeFlag(n * mult)
	return nil
}

// ---------------------------------------------------------------------------------------------
// Latency histogram: log-linear, 64 buckets per power of two (under 1.6% error).

const subBits = 6

type hist struct {
	counts [4096]uint64
	n      uint64
}

// Values below 128 have their own bucket; above, each power of two has 64 buckets.
func bucketOf(v uint64) int {
	if v < 2<<subBits {
		return int(v)
	}
	e := bits.Len64(v) - subBits - 1
	return 2<<subBits + (e-1)<<subBits + int(v>>uint(e)) - 1<<subBits
}

func bucketValue(b int) uint64 {
	if b < 2<<subBits {
		return uint64(b)
	}
	e := (b-2<<subBits)>>subBits + 1
	m := uint64((b-2<<subBits)&(1<<subBits-1)) + 1<<subBits
	// The middle of the bucket.
	return m<<uint(e) + (uint64(1)<<uint(e))/2
}

func (h *hist) add(ns int64) {
	if ns < 0 {
		ns = 0
	}
	h.counts[bucketOf(uint64(ns))]++
	h.n++
}

func (h *hist) merge(o *hist) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
}

// quantile returns the q-quantile in microseconds.
func (h *hist) quantile(q float64) float64 {
	if h.n == 0 {
		return 0
	}
	target := uint64(q*float64(h.n-1)) + 1
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= target {
			return float64(bucketValue(i)) / 1000
		}
	}
	return 0
}

// ---------------------------------------------------------------------------------------------
// Results

type result struct {
	Mode        string  `json:"mode"`
	Requests    uint64  `json:"requests"`
	Seconds     float64 `json:"seconds"`
	RPS         float64 `json:"rps"`
	MBps        float64 `json:"mbps"`
	P50us       float64 `json:"p50_us"`
	P99us       float64 `json:"p99_us"`
	Conns       int     `json:"conns"`
	Inflight    int     `json:"inflight"`
	Size        int64   `json:"size"`
	PayloadByte uint64  `json:"payload_bytes"`
}

func finish(mode string, h *hist, secs float64, payloadBytes uint64, conns, inflight int, size int64) result {
	return result{
		Mode:        mode,
		Requests:    h.n,
		Seconds:     secs,
		RPS:         float64(h.n) / secs,
		MBps:        float64(payloadBytes) / secs / 1e6,
		P50us:       h.quantile(0.50),
		P99us:       h.quantile(0.99),
		Conns:       conns,
		Inflight:    inflight,
		Size:        size,
		PayloadByte: payloadBytes,
	}
}

// ---------------------------------------------------------------------------------------------
// Framing helpers

const hexDigits = "0123456789abcdef"

func putHex(b []byte, v uint64) {
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = hexDigits[v&0xf]
		v >>= 4
	}
}

func parseHex(b []byte) (uint64, error) {
	var v uint64
	for _, c := range b {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, fmt.Errorf("bad hex digit %q in %q", c, b)
		}
		v = v<<4 | uint64(d)
	}
	return v, nil
}

// dial connects and exchanges the handshake.
func dial(addr string) (net.Conn, *bufio.Reader, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, nil, err
	}
	c.(*net.TCPConn).SetNoDelay(true)
	if _, err := c.Write([]byte("01")); err != nil {
		c.Close()
		return nil, nil, err
	}
	r := bufio.NewReaderSize(c, 256<<10)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var v [2]byte
	if _, err := io.ReadFull(r, v[:]); err != nil {
		c.Close()
		return nil, nil, fmt.Errorf("handshake: %w", err)
	}
	c.SetReadDeadline(time.Time{})
	if string(v[:]) != "01" {
		c.Close()
		return nil, nil, fmt.Errorf("handshake: got %q", v)
	}
	return c, r, nil
}

// frame is one decoded result header.
type frame struct {
	typ  byte
	id   uint32
	size int
}

// readFrame reads the next result header, skipping heartbeats; the payload is left unread.
func readFrame(r *bufio.Reader) (frame, error) {
	for {
		t, err := r.ReadByte()
		if err != nil {
			return frame{}, err
		}
		var b [20]byte
		switch t {
		case 'R', 'S', 'E':
			if _, err := io.ReadFull(r, b[:12]); err != nil {
				return frame{}, err
			}
			size, err := parseHex(b[4:12])
			if err != nil {
				return frame{}, err
			}
			id := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
			return frame{t, id, int(size)}, nil
		case 'e':
			if _, err := io.ReadFull(r, b[:20]); err != nil {
				return frame{}, err
			}
			size, err := parseHex(b[12:20])
			if err != nil {
				return frame{}, err
			}
			id := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
			return frame{t, id, int(size)}, nil
		case 'h':
			if _, err := io.ReadFull(r, b[:12]); err != nil {
				return frame{}, err
			}
		case 'f':
			io.ReadFull(r, b[:8])
			return frame{}, fmt.Errorf("the server sent a protocol error f%s", b[:8])
		default:
			return frame{}, fmt.Errorf("unexpected message type %q", t)
		}
	}
}

// readError turns an E or e frame into an error (reading its payload).
func readError(r *bufio.Reader, f frame) error {
	msg := make([]byte, min(f.size, 1024))
	io.ReadFull(r, msg)
	r.Discard(f.size - len(msg))
	return fmt.Errorf("the server answered %c %q", f.typ, msg)
}

// slotID makes printable ids, as gotalk.js expects: "b" + 3 base-32 digits of the slot.
func slotID(slot int) uint32 {
	const digits = "0123456789abcdefghijklmnopqrstuv"
	return uint32('b')<<24 | uint32(digits[(slot>>10)&31])<<16 |
		uint32(digits[(slot>>5)&31])<<8 | uint32(digits[slot&31])
}

func slotOf(id uint32) int {
	d := func(c byte) int {
		if c <= '9' {
			return int(c - '0')
		}
		return int(c-'a') + 10
	}
	return d(byte(id>>16))<<10 | d(byte(id>>8))<<5 | d(byte(id))
}

func requestFrame(id uint32, op string, payload []byte) []byte {
	b := make([]byte, 0, 16+len(op)+len(payload))
	b = append(b, 'r', byte(id>>24), byte(id>>16), byte(id>>8), byte(id))
	var n [8]byte
	putHex(n[:3], uint64(len(op)))
	b = append(b, n[:3]...)
	b = append(b, op...)
	putHex(n[:], uint64(len(payload)))
	b = append(b, n[:]...)
	return append(b, payload...)
}

func pattern(size int64) []byte {
	p := make([]byte, size)
	for i := range p {
		p[i] = byte(i*31 + 7)
	}
	return p
}

// ---------------------------------------------------------------------------------------------
// pipeline

const (
	phaseWarmup = iota
	phaseMeasure
	phaseStop
)

type pipeConn struct {
	conn   net.Conn
	r      *bufio.Reader
	frames [][]byte
	sentAt []int64
	hist   hist
	bytes  uint64
	err    error
}

// run is the connection's loop: it writes every slot's request, then answers each result with
// the next request for that slot, flushing the coalesced requests whenever it is about to wait
// for more results. (One goroutine: the server always reads, and at most `inflight` requests
// are outstanding, so writing never blocks for long.)
func (pc *pipeConn) run(phase *atomic.Int32, start time.Time, size int) error {
	w := bufio.NewWriterSize(pc.conn, 64<<10)
	outstanding := 0
	send := func(slot int) error {
		pc.sentAt[slot] = time.Since(start).Nanoseconds()
		outstanding++
		_, err := w.Write(pc.frames[slot])
		return err
	}
	for slot := range pc.frames {
		if err := send(slot); err != nil {
			return err
		}
	}
	for outstanding > 0 {
		if pc.r.Buffered() == 0 && w.Buffered() > 0 {
			if err := w.Flush(); err != nil {
				return err
			}
		}
		f, err := readFrame(pc.r)
		if err != nil {
			return err
		}
		if f.typ != 'R' {
			return readError(pc.r, f)
		}
		if f.size != size {
			return fmt.Errorf("a result of %d bytes answered a request of %d", f.size, size)
		}
		if _, err := pc.r.Discard(f.size); err != nil {
			return err
		}
		slot := slotOf(f.id)
		if slot < 0 || slot >= len(pc.sentAt) {
			return fmt.Errorf("unknown result id %08x", f.id)
		}
		outstanding--
		switch phase.Load() {
		case phaseStop:
			continue
		case phaseMeasure:
			pc.hist.add(time.Since(start).Nanoseconds() - pc.sentAt[slot])
			pc.bytes += 2 * uint64(f.size)
		}
		if err := send(slot); err != nil {
			return err
		}
	}
	return w.Flush()
}

func runPipeline(args []string) (any, error) {
	fs := flag.NewFlagSet("pipeline", flag.ContinueOnError)
	addr := fs.String("addr", "", "server address HOST:PORT")
	conns := fs.Int("conns", 1, "connections")
	inflight := fs.Int("inflight", 64, "requests in flight per connection")
	var size sizeFlag = 16
	fs.Var(&size, "size", "payload bytes")
	op := fs.String("op", "echo", "operation")
	warmup := fs.Duration("warmup", time.Second, "warm-up")
	duration := fs.Duration("duration", 3*time.Second, "measured time")
	wsPath := fs.String("ws", "", "connect over WebSocket at this path (e.g. /gotalk/)")
	coalesce := fs.Bool("coalesce", false, "WebSocket: a request's header and payload in one message")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if *inflight < 1 || *inflight > 32768 || *conns < 1 {
		return nil, errors.New("--inflight must be 1 to 32768 and --conns at least 1")
	}
	payload := pattern(int64(size))
	var phase atomic.Int32
	start := time.Now()
	cs := make([]*pipeConn, *conns)
	for i := range cs {
		c, r, err := dialPipeline(*addr, *wsPath)
		if err != nil {
			return nil, err
		}
		pc := &pipeConn{conn: c, r: r,
			frames: make([][]byte, *inflight), sentAt: make([]int64, *inflight)}
		for s := 0; s < *inflight; s++ {
			pc.frames[s] = requestFrame(slotID(s), *op, payload)
			if *wsPath != "" {
				pc.frames[s] = wsRequest(pc.frames[s], len(payload), *coalesce)
			}
		}
		cs[i] = pc
	}
	var wg sync.WaitGroup
	for _, pc := range cs {
		wg.Add(1)
		go func(pc *pipeConn) {
			defer wg.Done()
			pc.err = pc.run(&phase, start, len(payload))
		}(pc)
	}
	time.Sleep(*warmup)
	phase.Store(phaseMeasure)
	t0 := time.Now()
	time.Sleep(*duration)
	phase.Store(phaseStop)
	secs := time.Since(t0).Seconds()
	// The loops stop sending now and return once their outstanding requests are answered;
	// closing the connections after a bound ends any that are stuck.
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(5 * time.Second):
		for _, pc := range cs {
			pc.conn.Close()
		}
		<-finished
		return nil, errors.New("requests still unanswered 5 s after the end")
	}
	for _, pc := range cs {
		pc.conn.Close()
	}
	var h hist
	var payloadBytes uint64
	for _, pc := range cs {
		if pc.err != nil {
			return nil, pc.err
		}
		h.merge(&pc.hist)
		payloadBytes += pc.bytes
	}
	if h.n == 0 {
		return nil, errors.New("no request completed")
	}
	return finish("pipeline", &h, secs, payloadBytes, *conns, *inflight, int64(size)), nil
}

// ---------------------------------------------------------------------------------------------
// stream

func runStream(args []string) (any, error) {
	fs := flag.NewFlagSet("stream", flag.ContinueOnError)
	addr := fs.String("addr", "", "server address HOST:PORT")
	var total, part, window, warm sizeFlag = 256 << 20, 64 << 10, 4 << 20, 32 << 20
	fs.Var(&total, "bytes", "bytes to stream")
	fs.Var(&part, "part", "part size")
	fs.Var(&window, "window", "most bytes sent and not yet echoed")
	fs.Var(&warm, "warmup-bytes", "bytes streamed first, unmeasured")
	timeout := fs.Duration("timeout", 60*time.Second, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if part < 1 || window < part {
		return nil, errors.New("--part must be positive and --window at least --part")
	}
	c, r, err := dial(*addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(*timeout))
	if warm > 0 {
		if _, _, err := streamOnce(c, r, slotID(1), int64(warm), int64(part), int64(window)); err != nil {
			return nil, fmt.Errorf("warm-up: %w", err)
		}
	}
	h, secs, err := streamOnce(c, r, slotID(2), int64(total), int64(part), int64(window))
	if err != nil {
		return nil, err
	}
	res := finish("stream", h, secs, 2*uint64(total), 1, int(int64(window)/int64(part)), int64(part))
	return res, nil
}

// streamOnce streams `total` bytes through stream-echo; the histogram holds per-part round trips.
func streamOnce(c net.Conn, r *bufio.Reader, id uint32, total, part, window int64) (*hist, float64, error) {
	payload := pattern(part)
	var recv atomic.Int64
	progress := make(chan struct{}, 1)
	type stamp struct {
		end int64
		at  time.Time
	}
	stamps := make(chan stamp, window/part+4)
	h := &hist{}
	done := make(chan error, 1)
	t0 := time.Now()
	go func() { // reader
		var got int64
		var next stamp
		have := false
		for {
			f, err := readFrame(r)
			if err != nil {
				done <- err
				return
			}
			if f.typ != 'S' && f.typ != 'R' {
				done <- readError(r, f)
				return
			}
			if f.id != id {
				r.Discard(f.size)
				continue
			}
			if _, err := r.Discard(f.size); err != nil {
				done <- err
				return
			}
			if f.size == 0 || f.typ == 'R' {
				if got != total {
					done <- fmt.Errorf("stream-echo returned %d bytes of %d", got, total)
				} else {
					done <- nil
				}
				return
			}
			got += int64(f.size)
			for {
				if !have {
					select {
					case next = <-stamps:
						have = true
					default:
					}
				}
				if !have || next.end > got {
					break
				}
				h.add(time.Since(next.at).Nanoseconds())
				have = false
			}
			recv.Store(got)
			select {
			case progress <- struct{}{}:
			default:
			}
		}
	}()
	w := bufio.NewWriterSize(c, 256<<10)
	var hdr [32]byte
	var sent int64
	for sent < total {
		for sent-recv.Load() >= window {
			if err := w.Flush(); err != nil {
				return nil, 0, err
			}
			select {
			case <-progress:
			case err := <-done:
				if err == nil {
					err = errors.New("the stream ended early")
				}
				return nil, 0, err
			}
		}
		n := min(part, total-sent)
		var hb []byte
		if sent == 0 {
			hb = append(hdr[:0], 's', byte(id>>24), byte(id>>16), byte(id>>8), byte(id))
			hb = append(hb, "00bstream-echo"...)
		} else {
			hb = append(hdr[:0], 'p', byte(id>>24), byte(id>>16), byte(id>>8), byte(id))
		}
		var sz [8]byte
		putHex(sz[:], uint64(n))
		hb = append(hb, sz[:]...)
		w.Write(hb)
		if _, err := w.Write(payload[:n]); err != nil {
			return nil, 0, err
		}
		sent += n
		stamps <- stamp{sent, time.Now()}
	}
	end := []byte{'p', byte(id >> 24), byte(id >> 16), byte(id >> 8), byte(id), '0', '0', '0', '0', '0', '0', '0', '0'}
	w.Write(end)
	if err := w.Flush(); err != nil {
		return nil, 0, err
	}
	if err := <-done; err != nil {
		return nil, 0, err
	}
	return h, time.Since(t0).Seconds(), nil
}

// ---------------------------------------------------------------------------------------------
// gotalk-client

func runGotalkClient(args []string) (any, error) {
	fs := flag.NewFlagSet("gotalk-client", flag.ContinueOnError)
	addr := fs.String("addr", "", "server address HOST:PORT")
	conns := fs.Int("conns", 1, "connections")
	inflight := fs.Int("inflight", 64, "requests in flight per connection")
	var size sizeFlag = 16
	fs.Var(&size, "size", "payload bytes")
	op := fs.String("op", "echo", "operation")
	warmup := fs.Duration("warmup", time.Second, "warm-up")
	duration := fs.Duration("duration", 3*time.Second, "measured time")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	payload := pattern(int64(size))
	socks := make([]*gotalk.Sock, *conns)
	for i := range socks {
		s, err := gotalk.Connect("tcp", *addr)
		if err != nil {
			return nil, err
		}
		socks[i] = s
	}
	var phase atomic.Int32
	hists := make([]hist, *conns**inflight)
	bytesDone := make([]uint64, len(hists))
	errs := make(chan error, len(hists))
	var wg sync.WaitGroup
	for i := range hists {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			s := socks[i / *inflight]
			for phase.Load() != phaseStop {
				t := time.Now()
				out, err := s.BufferRequest(*op, payload)
				if err != nil {
					errs <- err
					return
				}
				if len(out) != len(payload) {
					errs <- fmt.Errorf("a result of %d bytes answered a request of %d", len(out), len(payload))
					return
				}
				if phase.Load() == phaseMeasure {
					hists[i].add(time.Since(t).Nanoseconds())
					bytesDone[i] += 2 * uint64(len(out))
				}
			}
		}(i)
	}
	time.Sleep(*warmup)
	phase.Store(phaseMeasure)
	t0 := time.Now()
	time.Sleep(*duration)
	phase.Store(phaseStop)
	secs := time.Since(t0).Seconds()
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(5 * time.Second):
		return nil, errors.New("requests still pending 5 s after the end")
	}
	for _, s := range socks {
		s.Close()
	}
	select {
	case err := <-errs:
		return nil, err
	default:
	}
	var h hist
	var payloadBytes uint64
	for i := range hists {
		h.merge(&hists[i])
		payloadBytes += bytesDone[i]
	}
	return finish("gotalk-client", &h, secs, payloadBytes, *conns, *inflight, int64(size)), nil
}

// ---------------------------------------------------------------------------------------------
// idle and sleepers (memory)

func runIdle(args []string) (any, error) {
	fs := flag.NewFlagSet("idle", flag.ContinueOnError)
	addr := fs.String("addr", "", "server address HOST:PORT")
	conns := fs.Int("conns", 1000, "connections")
	hold := fs.Duration("hold", 2*time.Second, "how long to hold them")
	wsPath := fs.String("ws", "", "connect over WebSocket at this path (e.g. /gotalk/)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	cs := make([]net.Conn, 0, *conns)
	defer func() {
		for _, c := range cs {
			c.Close()
		}
	}()
	for i := 0; i < *conns; i++ {
		c, _, err := dialPipeline(*addr, *wsPath)
		if err != nil {
			return nil, fmt.Errorf("connection %d: %w", i, err)
		}
		cs = append(cs, c)
	}
	emit(map[string]int{"ready": len(cs)})
	time.Sleep(*hold)
	return map[string]int{"conns": len(cs)}, nil
}

func runSleepers(args []string) (any, error) {
	fs := flag.NewFlagSet("sleepers", flag.ContinueOnError)
	addr := fs.String("addr", "", "server address HOST:PORT")
	conns := fs.Int("conns", 10, "connections")
	inflight := fs.Int("inflight", 1000, "requests per connection")
	ms := fs.Int("ms", 2000, "how long each request sleeps")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if *inflight > 32768 {
		return nil, errors.New("--inflight is at most 32768")
	}
	body := []byte(fmt.Sprintf(`{"ms":%d,"value":null}`, *ms))
	type conn struct {
		c net.Conn
		r *bufio.Reader
	}
	cs := make([]conn, *conns)
	for i := range cs {
		c, r, err := dial(*addr)
		if err != nil {
			return nil, err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(time.Duration(*ms)*time.Millisecond + 30*time.Second))
		cs[i] = conn{c, r}
	}
	t0 := time.Now()
	for _, c := range cs {
		w := bufio.NewWriterSize(c.c, 64<<10)
		for s := 0; s < *inflight; s++ {
			w.Write(requestFrame(slotID(s), "sleep", body))
		}
		if err := w.Flush(); err != nil {
			return nil, err
		}
	}
	emit(map[string]int{"sent": *conns * *inflight})
	errs := make(chan error, len(cs))
	for _, c := range cs {
		go func(c conn) {
			for i := 0; i < *inflight; i++ {
				f, err := readFrame(c.r)
				if err != nil {
					errs <- err
					return
				}
				if f.typ != 'R' {
					errs <- readError(c.r, f)
					return
				}
				c.r.Discard(f.size)
			}
			errs <- nil
		}(c)
	}
	for range cs {
		if err := <-errs; err != nil {
			return nil, err
		}
	}
	return map[string]any{"answered": *conns * *inflight, "seconds": time.Since(t0).Seconds()}, nil
}
