package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/rsms/gotalk"
	"golang.org/x/net/websocket"
)

const (
	checkTimeout   = 10 * time.Second // per check, connecting included
	connectTimeout = 5 * time.Second  // dial + protocol handshake
)

// clientLimits applies to requests the server sends to the check client (call-back).
// No read timeout: the check client must not drop a server that sends no heartbeats.
// The idle check uses gotalk.DefaultLimits instead (see checkIdle).
var clientLimits = &gotalk.Limits{
	BufferRequests: gotalk.Unlimited,
	StreamRequests: gotalk.Unlimited,
}

type checkFunc func(c *checkConn) error

type check struct {
	id      string
	run     checkFunc
	timeout time.Duration  // 0: checkTimeout
	limits  *gotalk.Limits // passed to the client's Sock.Read; nil: clientLimits
}

// idleCheckID is the opt-in check run by --idle MS; it is not part of the default run.
const idleCheckID = "idle"

// checks are run in this order. Ids are stable: never rename or drop one.
var checks = []check{
	{id: "echo-empty", run: func(c *checkConn) error { return c.echo([]byte{}) }},
	{id: "echo-small", run: func(c *checkConn) error { return c.echo([]byte("hello, gotalk")) }},
	{id: "echo-1mib", run: func(c *checkConn) error { return c.echo(pattern(1<<20, 7)) }},
	{id: "echo-binary", run: func(c *checkConn) error { return c.echo(allByteValues()) }},
	{id: "upper-unicode", run: checkUpperUnicode},
	{id: "fail-error-result", run: checkFailErrorResult},
	{id: "unknown-op", run: checkUnknownOp},
	{id: "out-of-order", run: checkOutOfOrder},
	{id: "concurrent-1000", run: checkConcurrent1000},
	{id: "stream-echo", run: checkStreamEcho},
	{id: "notify-back", run: checkNotifyBack},
	{id: "notify-to-server", run: checkNotifyToServer},
	{id: "call-back", run: checkCallBack},
	{id: "stream-single-result", run: checkStreamSingleResult},
	{id: "single-stream-result", run: checkSingleStreamResult},
}

type checkReport struct {
	ID     string   `json:"id"`
	OK     bool     `json:"ok"`
	MS     *float64 `json:"ms,omitempty"`
	Detail string   `json:"detail,omitempty"`
}

func runCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("go-peer check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	rawURL := fs.String("url", "", "tcp://HOST:PORT or ws://HOST:PORT/gotalk/")
	only := fs.String("only", "", "comma-separated check ids to run (default: all; with --idle: just idle)")
	idleMS := fs.Int64("idle", 0, "run the idle check, idling MS milliseconds on one connection")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	idleSet := false
	fs.Visit(func(f *flag.Flag) { idleSet = idleSet || f.Name == "idle" })
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "go-peer check: "+format+"\n", a...)
		return exitUsage
	}
	if fs.NArg() != 0 {
		return fail("unexpected argument %q", fs.Arg(0))
	}
	u, err := url.Parse(*rawURL)
	if err != nil || u.Host == "" {
		return fail("--url must be tcp://HOST:PORT or ws://HOST:PORT/gotalk/, not %q", *rawURL)
	}
	switch u.Scheme {
	case "tcp", "ws", "wss":
	default:
		return fail("unsupported --url scheme %q (tcp, ws or wss)", u.Scheme)
	}

	if idleSet && *idleMS < 0 {
		return fail("--idle must not be negative, not %d", *idleMS)
	}
	idle := time.Duration(*idleMS) * time.Millisecond

	selected := checks
	if idleSet {
		selected = []check{idleCheck(idle)}
	}
	if *only != "" {
		byID := map[string]check{}
		for _, c := range checks {
			byID[c.id] = c
		}
		if idleSet {
			byID[idleCheckID] = idleCheck(idle)
		}
		selected = nil
		for _, id := range strings.Split(*only, ",") {
			id = strings.TrimSpace(id)
			c, ok := byID[id]
			if !ok {
				if id == idleCheckID {
					return fail("check %q needs --idle MS", id)
				}
				return fail("unknown check id %q", id)
			}
			selected = append(selected, c)
		}
	}

	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	code := exitOK
	for _, c := range selected {
		r := runOneCheck(u, c)
		if !r.OK {
			code = exitFailed
		}
		if err := enc.Encode(r); err != nil {
			fmt.Fprintf(stderr, "go-peer check: %v\n", err)
			return exitFailed
		}
	}
	return code
}

// runOneCheck runs c on a fresh connection, bounded by its timeout (checkTimeout unless the
// check says otherwise). A check that times out has its connection closed, which makes any
// request it still awaits fail.
func runOneCheck(u *url.URL, c check) checkReport {
	timeout, limits := c.timeout, c.limits
	if timeout == 0 {
		timeout = checkTimeout
	}
	if limits == nil {
		limits = clientLimits
	}
	start := time.Now()
	cc := &checkConn{
		notes:      make(chan note, 64),
		deadline:   start.Add(timeout),
		sockClosed: make(chan struct{}),
	}
	done := make(chan error, 1)
	go func() {
		done <- func() error {
			if err := cc.connect(u, limits); err != nil {
				return fmt.Errorf("connect: %v", err)
			}
			return c.run(cc)
		}()
	}()
	var err error
	select {
	case err = <-done:
	case <-time.After(timeout):
		err = fmt.Errorf("timed out after %v", timeout)
	}
	elapsed := time.Since(start)
	cc.close()
	if err != nil {
		return checkReport{ID: c.id, OK: false, Detail: err.Error()}
	}
	ms := math.Round(float64(elapsed.Microseconds())/10) / 100
	return checkReport{ID: c.id, OK: true, MS: &ms}
}

// ---------------------------------------------------------------------------------------------
// Connection

type checkConn struct {
	s        *gotalk.Sock
	notes    chan note // notifications received, any name
	deadline time.Time

	mu     sync.Mutex
	conn   io.ReadWriteCloser
	closed bool

	// Set from gotalk's callbacks, which run on the read loop.
	sockClosed chan struct{} // closed by the Sock's CloseHandler
	stateMu    sync.Mutex
	closeCode  int       // CloseHandler's code: 0, or the ProtocolError code + 1
	closedAt   time.Time // when the CloseHandler ran
	heartbeats int       // heartbeats received from the server
	lastHeard  time.Time // last heartbeat or result received (see heard)
}

func (c *checkConn) handlers() *gotalk.Handlers {
	h := &gotalk.Handlers{}
	// Registered so that the server's call-back can reach the client.
	h.Handle("upper", func(s string) (string, error) { return strings.ToUpper(s), nil })
	// Runs on the read loop: never block it.
	h.HandleBufferNotification("", func(_ *gotalk.Sock, name string, p []byte) {
		select {
		case c.notes <- note{Name: name, Value: append(json.RawMessage(nil), p...)}:
		default:
		}
	})
	return h
}

type deadliner interface{ SetDeadline(time.Time) error }

func (c *checkConn) connect(u *url.URL, limits *gotalk.Limits) error {
	var conn io.ReadWriteCloser
	switch u.Scheme {
	case "tcp":
		nc, err := net.DialTimeout("tcp", u.Host, connectTimeout)
		if err != nil {
			return err
		}
		conn = nc
	default: // ws, wss
		origin := "http://" + u.Host
		if u.Scheme == "wss" {
			origin = "https://" + u.Host
		}
		// The reference WebSocket server refuses upgrades without an Origin header.
		cfg, err := websocket.NewConfig(u.String(), origin)
		if err != nil {
			return err
		}
		cfg.Dialer = &net.Dialer{Timeout: connectTimeout}
		ws, err := websocket.DialConfig(cfg)
		if err != nil {
			return err
		}
		// x/net/websocket writes text frames by default; gotalk messages are bytes.
		ws.PayloadType = websocket.BinaryFrame
		conn = ws
	}
	if !c.setConn(conn) {
		conn.Close()
		return errors.New("check already finished")
	}

	// This is Sock.ConnectReader, with a deadline around the version handshake. NewSock keeps
	// gotalk's client default of a heartbeat every 20 s.
	s := gotalk.NewSock(c.handlers())
	s.CloseHandler = c.onSockClose
	s.OnHeartbeat = func(int, time.Time) {
		c.stateMu.Lock()
		c.heartbeats++
		c.lastHeard = time.Now()
		c.stateMu.Unlock()
	}
	s.Adopt(conn)
	d := conn.(deadliner)
	d.SetDeadline(time.Now().Add(connectTimeout))
	if err := s.Handshake(); err != nil {
		return fmt.Errorf("handshake: %v", err)
	}
	d.SetDeadline(time.Time{})
	c.s = s
	c.heard()
	go s.Read(limits)
	return nil
}

// onSockClose is the Sock's CloseHandler. gotalk passes its internal close code, which is the
// ProtocolError code + 1 (0: closed without a protocol error), not the ProtocolError code its
// documentation promises.
func (c *checkConn) onSockClose(_ *gotalk.Sock, code int) {
	c.stateMu.Lock()
	c.closeCode = code
	c.closedAt = time.Now()
	c.stateMu.Unlock()
	close(c.sockClosed)
}

// heard records that something arrived from the server.
func (c *checkConn) heard() {
	c.stateMu.Lock()
	c.lastHeard = time.Now()
	c.stateMu.Unlock()
}

func (c *checkConn) setConn(conn io.ReadWriteCloser) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.conn = conn
	return true
}

// close may run concurrently with a check that timed out; closing the underlying
// connection ends gotalk's read loop, which fails every pending request.
func (c *checkConn) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	if c.conn != nil {
		c.conn.Close()
	}
}

// describe renders an error from gotalk, telling an ErrorResult apart from other errors.
func describe(err error) string {
	var res *gotalk.Response
	if errors.As(err, &res) && res.IsError() {
		return fmt.Sprintf("ErrorResult %q", res.Data)
	}
	return err.Error()
}

// errorResult returns the payload of err if it is an ErrorResult.
func errorResult(err error) ([]byte, bool) {
	var res *gotalk.Response
	if errors.As(err, &res) && res.IsError() {
		return res.Data, true
	}
	return nil, false
}

func (c *checkConn) request(op string, in, out any) error {
	if err := c.s.Request(op, in, out); err != nil {
		return fmt.Errorf("%s: %s", op, describe(err))
	}
	return nil
}

func (c *checkConn) echo(p []byte) error {
	res, err := c.s.BufferRequest("echo", p)
	if err != nil {
		return fmt.Errorf("echo: %s", describe(err))
	}
	return compareBytes("echo result", res, p)
}

func compareBytes(what string, got, want []byte) error {
	if bytes.Equal(got, want) {
		return nil
	}
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	return fmt.Errorf("%s: got %d bytes, want %d (first difference at byte %d)", what, len(got), len(want), i)
}

// sameJSON reports whether a and b encode the same JSON value.
func sameJSON(a, b []byte) bool {
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return false
	}
	return reflect.DeepEqual(va, vb)
}

// pattern returns n deterministic bytes covering all byte values.
func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	x := uint32(seed) + 1
	for i := range b {
		x = x*1103515245 + 12345
		b[i] = byte(x >> 16)
	}
	return b
}

func allByteValues() []byte {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

// ---------------------------------------------------------------------------------------------
// Checks

// The text avoids characters whose upper case differs between Go's strings.ToUpper
// (simple case mapping: "ß" stays "ß") and JavaScript's toUpperCase (full mapping: "SS").
const (
	upperIn   = "hello, wörld! ñandú ÆØÅ éèê ω σ ж 日本語 😀"
	upperWant = "HELLO, WÖRLD! ÑANDÚ ÆØÅ ÉÈÊ Ω Σ Ж 日本語 😀"
)

func checkUpperUnicode(c *checkConn) error {
	var got string
	if err := c.request("upper", upperIn, &got); err != nil {
		return err
	}
	if got != upperWant {
		return fmt.Errorf("upper: got %q, want %q", got, upperWant)
	}
	return nil
}

func checkFailErrorResult(c *checkConn) error {
	payload := []byte("deliberate failure: ünïcode ✓ \x00\x01")
	res, err := c.s.BufferRequest("fail", payload)
	if err == nil {
		return fmt.Errorf("fail: got a result (%d bytes), want an ErrorResult", len(res))
	}
	text, ok := errorResult(err)
	if !ok {
		return fmt.Errorf("fail: want an ErrorResult, got error %v", err)
	}
	return compareBytes("ErrorResult payload", text, payload)
}

func checkUnknownOp(c *checkConn) error {
	// The text differs between implementations (Go: `unknown operation "x"`), so only the
	// kind of answer is checked.
	res, err := c.s.BufferRequest("conformance-no-such-op", []byte("x"))
	if err == nil {
		return fmt.Errorf("got a result (%d bytes), want an ErrorResult", len(res))
	}
	if _, ok := errorResult(err); !ok {
		return fmt.Errorf("want an ErrorResult, got error %v", err)
	}
	return nil
}

func checkOutOfOrder(c *checkConn) error {
	// SendRequest writes synchronously, so "slow" is on the wire before "fast".
	send := func(ms int, value string) (chan gotalk.Response, error) {
		body, _ := json.Marshal(map[string]any{"ms": ms, "value": value})
		ch := make(chan gotalk.Response, 1)
		return ch, c.s.SendRequest(gotalk.NewRequest("sleep", body), ch)
	}
	slow, err := send(300, "slow")
	if err != nil {
		return err
	}
	fast, err := send(0, "fast")
	if err != nil {
		return err
	}
	value := func(r gotalk.Response) (string, error) {
		if r.MsgType != gotalk.MsgTypeSingleRes {
			return "", fmt.Errorf("sleep: got message type %q (%q), want a result", byte(r.MsgType), r.Data)
		}
		var v string
		err := json.Unmarshal(r.Data, &v)
		return v, err
	}
	var order []string
	for len(order) < 2 {
		var r gotalk.Response
		select {
		case r = <-slow:
			slow = nil
		case r = <-fast:
			fast = nil
		}
		v, err := value(r)
		if err != nil {
			return err
		}
		order = append(order, v)
	}
	if order[0] != "fast" || order[1] != "slow" {
		return fmt.Errorf("settled in order %q, want [fast slow]", order)
	}
	return nil
}

func checkConcurrent1000(c *checkConn) error {
	const n = 1000
	start := make(chan struct{})
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() {
			// Distinct payloads of distinct sizes (12 to 60 bytes).
			p := []byte(fmt.Sprintf("req-%04d-%s", i, strings.Repeat(string(rune('a'+i%26)), i%49)))
			<-start
			res, err := c.s.BufferRequest("echo", p)
			if err != nil {
				errs <- fmt.Errorf("request %d: %s", i, describe(err))
			} else if !bytes.Equal(res, p) {
				errs <- fmt.Errorf("request %d: got %q, want %q", i, res, p)
			} else {
				errs <- nil
			}
		}()
	}
	close(start)
	var first error
	failed := 0
	for i := 0; i < n; i++ {
		if err := <-errs; err != nil {
			failed++
			if first == nil {
				first = err
			}
		}
	}
	if failed != 0 {
		return fmt.Errorf("%d of %d requests failed; first: %v", failed, n, first)
	}
	return nil
}

func checkStreamEcho(c *checkConn) error {
	sizes := []int{1, 17, 256, 1000, 4096, 65536, 3, 100000, 42, 7}
	parts := make([][]byte, len(sizes))
	for i, z := range sizes {
		parts[i] = pattern(z, byte(i))
	}

	// The Go client delivers result parts on an unbuffered channel from its read loop, so
	// they must be received while the request parts are written.
	req, resch := c.s.StreamRequest("stream-echo")
	type outcome struct {
		parts [][]byte
		err   error
	}
	got := make(chan outcome, 1)
	go func() {
		var out [][]byte
		for {
			r, ok := <-resch
			switch {
			case !ok:
				got <- outcome{out, errors.New("result channel closed")}
			case r.IsStreaming() && len(r.Data) == 0:
				got <- outcome{out, nil}
			case r.IsStreaming():
				out = append(out, r.Data)
				continue
			case r.IsError():
				got <- outcome{out, fmt.Errorf("ErrorResult %q after %d result parts", r.Data, len(out))}
			default:
				got <- outcome{out, fmt.Errorf("got message type %q after %d result parts, want a streaming result part", byte(r.MsgType), len(out))}
			}
			return
		}
	}()

	// A server that refuses the stream (e.g. the reference with streams disabled answers the
	// "s" with an ErrorResult, then drops the connection on the next "p") can make a write
	// fail: report what the server answered rather than the write error when there is one.
	writeFailed := func(what string, err error) error {
		select {
		case o := <-got:
			if o.err != nil {
				return fmt.Errorf("%v (then %s failed: %v)", o.err, what, err)
			}
		case <-time.After(time.Second):
		}
		return fmt.Errorf("%s: %v", what, err)
	}
	for i, p := range parts {
		if err := req.Write(p); err != nil {
			return writeFailed(fmt.Sprintf("writing request part %d", i), err)
		}
	}
	if err := req.End(); err != nil {
		return writeFailed("ending the request", err)
	}
	o := <-got
	if o.err != nil {
		return o.err
	}
	if len(o.parts) != len(parts) {
		return fmt.Errorf("got %d result parts, want %d", len(o.parts), len(parts))
	}
	for i := range parts {
		if err := compareBytes(fmt.Sprintf("result part %d", i), o.parts[i], parts[i]); err != nil {
			return err
		}
	}
	return nil
}

// awaitNote waits for a notification named name until the check's deadline.
func (c *checkConn) awaitNote(name string) (note, error) {
	timeout := time.After(time.Until(c.deadline))
	for {
		select {
		case n := <-c.notes:
			if n.Name == name {
				return n, nil
			}
		case <-timeout:
			return note{}, fmt.Errorf("notification %q never arrived", name)
		}
	}
}

var noteValueJSON = json.RawMessage(`{"text":"ünïcode ✓","n":42,"list":[1,2.5,null,true],"nested":{"a":[]}}`)

func checkNotifyBack(c *checkConn) error {
	const name = "conformance-notify-back"
	var ok bool
	err := c.request("notify-back", map[string]any{"name": name, "value": noteValueJSON}, &ok)
	if err != nil {
		return err
	}
	if !ok {
		return errors.New("notify-back: result is not true")
	}
	n, err := c.awaitNote(name)
	if err != nil {
		return err
	}
	if !sameJSON(n.Value, noteValueJSON) {
		return fmt.Errorf("notification value %s, want %s", n.Value, noteValueJSON)
	}
	return nil
}

func checkNotifyToServer(c *checkConn) error {
	const name = "conformance-notify-to-server"
	if err := c.s.BufferNotify(name, noteValueJSON); err != nil {
		return fmt.Errorf("notify: %v", err)
	}
	// The notification was written before the request, on the same connection.
	var notes struct {
		Count int   `json:"count"`
		Last  *note `json:"last"`
	}
	if err := c.request("notes", nil, &notes); err != nil {
		return err
	}
	if notes.Count != 1 || notes.Last == nil {
		return fmt.Errorf("notes: count %d, last %v; want count 1 and a last notification", notes.Count, notes.Last)
	}
	if notes.Last.Name != name {
		return fmt.Errorf("notes: last name %q, want %q", notes.Last.Name, name)
	}
	if !sameJSON(notes.Last.Value, noteValueJSON) {
		return fmt.Errorf("notes: last value %s, want %s", notes.Last.Value, noteValueJSON)
	}
	return nil
}

func checkCallBack(c *checkConn) error {
	const in, want = "call back: ünïcode ✓ ω", "CALL BACK: ÜNÏCODE ✓ Ω"
	var got string
	if err := c.request("call-back", map[string]any{"op": "upper", "value": in}, &got); err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("call-back: got %q, want %q", got, want)
	}
	return nil
}

// idleCheck proves that the server keeps an idle connection with a plain Go client alive:
// the client is set up like gotalk.Connect's (gotalk.DefaultLimits, so a 30 s read timeout,
// and NewSock's 20 s heartbeat interval), sends one echo, sends nothing more of its own for
// idle (gotalk's heartbeats still go out, as they would from any Go client), then sends a
// second echo on the same connection. With idle above 30 s, a server that sends no
// heartbeats is dropped by the client (f00000003 from the client); a server whose read
// timeout is shorter than the client's 20 s heartbeat interval drops the client itself.
func idleCheck(idle time.Duration) check {
	return check{
		id:      idleCheckID,
		run:     func(c *checkConn) error { return checkIdle(c, idle) },
		timeout: idle + checkTimeout,
		limits:  gotalk.DefaultLimits, // what gotalk.Connect uses
	}
}

func checkIdle(c *checkConn, idle time.Duration) error {
	if err := c.echo([]byte("before idling")); err != nil {
		return fmt.Errorf("before idling: %v", err)
	}
	c.heard()
	start := time.Now()
	select {
	case <-time.After(idle):
	case <-c.sockClosed:
		return fmt.Errorf("connection closed %v into the %v idle time: %s",
			time.Since(start).Round(time.Millisecond), idle, c.closeReason())
	}
	if err := c.echo([]byte("after idling")); err != nil {
		select {
		case <-c.sockClosed:
			return fmt.Errorf("after idling %v: %v; connection closed: %s", idle, err, c.closeReason())
		default:
			return fmt.Errorf("after idling %v: %v", idle, err)
		}
	}
	return nil
}

var protocolErrorNames = map[int]string{
	gotalk.ProtocolErrorAbnormal:    "abnormal",
	gotalk.ProtocolErrorUnsupported: "unsupported",
	gotalk.ProtocolErrorInvalidMsg:  "invalid message",
	gotalk.ProtocolErrorTimeout:     "timeout",
}

// closeReason describes why the Sock closed, from its CloseHandler's code. Call it only
// after sockClosed is closed.
func (c *checkConn) closeReason() string {
	c.stateMu.Lock()
	code, closedAt, beats, lastHeard := c.closeCode, c.closedAt, c.heartbeats, c.lastHeard
	c.stateMu.Unlock()
	silent := closedAt.Sub(lastHeard).Round(time.Millisecond)
	heard := fmt.Sprintf("%d heartbeat(s) received from the server in all; last message from the server %v before the close",
		beats, silent)
	if code == 0 {
		return "closed without a protocol error (EOF or reset from the server); " + heard
	}
	pe := code - 1 // gotalk's CloseHandler code is the ProtocolError code + 1
	what := fmt.Sprintf("protocol error %d (%s, f%08d)", pe, protocolErrorNames[pe], pe)
	readTimeout := gotalk.DefaultLimits.ReadTimeout
	if pe == gotalk.ProtocolErrorTimeout && silent >= readTimeout-100*time.Millisecond {
		return fmt.Sprintf("%s from the Go client's own %v read timeout: the server sent nothing, not even a heartbeat; %s",
			what, readTimeout, heard)
	}
	return fmt.Sprintf("%s, sent by the server (or by the Go client on a malformed message); %s", what, heard)
}

// Mixed kinds. Either kind of answer passes (the reference server itself can only answer
// stream-concat with S parts and echo-parts with R); the catalogue judges the kind on the
// wire. These checks prove that this client copes with both.

// responseParts reads a result from ch: one R, or S parts up to the empty S, and returns
// the payloads.
func (c *checkConn) responseParts(ch chan gotalk.Response) ([][]byte, error) {
	var parts [][]byte
	timeout := time.After(time.Until(c.deadline))
	for {
		var r gotalk.Response
		select {
		case r = <-ch:
		case <-timeout:
			return nil, fmt.Errorf("no complete result after %d parts", len(parts))
		}
		switch {
		case r.IsError():
			return nil, fmt.Errorf("ErrorResult %q", r.Data)
		case r.IsStreaming() && len(r.Data) == 0:
			return parts, nil
		case r.IsStreaming():
			parts = append(parts, r.Data)
		case r.MsgType == gotalk.MsgTypeSingleRes && len(parts) == 0:
			return [][]byte{r.Data}, nil
		default:
			return nil, fmt.Errorf("got message type %q after %d result parts", byte(r.MsgType), len(parts))
		}
	}
}

func checkStreamSingleResult(c *checkConn) error {
	parts := []string{"stream ", "to ", "single ", "ünïcode ✓"}
	// gotalk delivers the result on resch from its read loop; read it concurrently.
	req, resch := c.s.StreamRequest("stream-concat")
	type outcome struct {
		parts [][]byte
		err   error
	}
	got := make(chan outcome, 1)
	go func() {
		p, err := c.responseParts(resch)
		got <- outcome{p, err}
	}()
	for i, p := range parts {
		if err := req.Write([]byte(p)); err != nil {
			return fmt.Errorf("writing request part %d: %v", i, err)
		}
	}
	if err := req.End(); err != nil {
		return fmt.Errorf("ending the request: %v", err)
	}
	o := <-got
	if o.err != nil {
		return o.err
	}
	return compareBytes("result", bytes.Join(o.parts, nil), []byte(strings.Join(parts, "")))
}

func checkSingleStreamResult(c *checkConn) error {
	parts := []string{"single ", "to ", "stream ", "ünïcode ✓"}
	body, _ := json.Marshal(map[string]any{"parts": parts})
	// Not BufferRequest: it fails on S parts ("unexpected streaming response"). SendRequest
	// delivers every response for the id on the channel, buffered here.
	ch := make(chan gotalk.Response, len(parts)+2)
	if err := c.s.SendRequest(gotalk.NewRequest("echo-parts", body), ch); err != nil {
		return err
	}
	got, err := c.responseParts(ch)
	if err != nil {
		return err
	}
	return compareBytes("result", bytes.Join(got, nil), []byte(strings.Join(parts, "")))
}
