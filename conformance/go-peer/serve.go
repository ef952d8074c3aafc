package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/rsms/gotalk"
)

func init() {
	// gotalk logs every handler error (e.g. each `fail`) through the standard logger, with the
	// error text raw. Quote it, since `fail` texts may hold any bytes. Set once, here, because
	// these are package globals read by every socket.
	logger := func(_ *gotalk.Sock, format string, args ...interface{}) {
		fmt.Fprintf(os.Stderr, "go-peer: gotalk: %q\n", fmt.Sprintf(format, args...))
	}
	gotalk.HandlerErrorLogger = logger
	gotalk.ErrorLogger = logger
}

// callBackTimeout bounds how long the call-back operation waits for the requester's result.
const callBackTimeout = 10 * time.Second

type serveOptions struct {
	transport   string
	addr        string
	limits      *gotalk.Limits
	heartbeat   time.Duration
	unsupported []string
}

func parseServeArgs(args []string, stderr io.Writer) (*serveOptions, error) {
	fs := flag.NewFlagSet("go-peer serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	transport := fs.String("transport", "tcp", "tcp or ws")
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on")
	maxBuf := fs.Uint64("max-buffer-requests", uint64(gotalk.Unlimited),
		"max concurrent buffer requests per connection; 0 answers every one with RetryResult")
	maxStream := fs.Uint64("max-stream-requests", uint64(gotalk.Unlimited),
		"max concurrent stream requests per connection; 0 disables streams")
	readTimeout := fs.Int64("read-timeout", 0, "read timeout in ms (0: none)")
	heartbeat := fs.Int64("heartbeat", 0, "heartbeat interval in ms (0: none)")
	maxPayload := fs.Uint64("max-payload", 0, "not supported by the Go reference")
	if err := fs.Parse(args); err != nil {
		return nil, errReported // the flag package has printed the error and the usage
	}
	if fs.NArg() != 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *transport != "tcp" && *transport != "ws" {
		return nil, fmt.Errorf("--transport must be tcp or ws, not %q", *transport)
	}
	if *maxBuf > uint64(gotalk.Unlimited) || *maxStream > uint64(gotalk.Unlimited) {
		return nil, errors.New("--max-buffer-requests and --max-stream-requests must fit in 32 bits")
	}
	if *readTimeout < 0 || *heartbeat < 0 {
		return nil, errors.New("--read-timeout and --heartbeat must not be negative")
	}
	o := &serveOptions{
		transport: *transport,
		addr:      *addr,
		heartbeat: time.Duration(*heartbeat) * time.Millisecond,
		// Built by hand rather than from gotalk.DefaultLimits, whose values differ from the
		// contract's defaults: DefaultLimits has ReadTimeout 30s and StreamRequests 0 (streams
		// answered with ErrorResult "stream requests not supported"). Here an absent or zero
		// --read-timeout means no read deadline at all (Limits.ReadTimeout 0), and streams are
		// enabled unless --max-stream-requests says otherwise. The retry waits are left zero,
		// which gotalk replaces with its defaults (a random 500-5000 ms); setting min == max
		// would make gotalk panic (rand.Intn(0)) as soon as a limit is hit.
		limits: &gotalk.Limits{
			ReadTimeout:    time.Duration(*readTimeout) * time.Millisecond,
			BufferRequests: uint32(*maxBuf),
			StreamRequests: uint32(*maxStream),
		},
	}
	if *maxPayload != 0 {
		o.unsupported = append(o.unsupported,
			"--max-payload: the Go reference has no payload size limit (it allocates whatever a header declares)")
	}
	return o, nil
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseServeArgs(args, stderr)
	if err != nil {
		if err != errReported {
			fmt.Fprintf(stderr, "go-peer serve: %v\n", err)
		}
		return exitUsage
	}
	if len(o.unsupported) != 0 {
		for _, msg := range o.unsupported {
			fmt.Fprintf(stderr, "go-peer serve: cannot honour %s\n", msg)
		}
		return exitUsage
	}

	l, err := net.Listen("tcp", o.addr)
	if err != nil {
		fmt.Fprintf(stderr, "go-peer serve: %v\n", err)
		return exitUsage
	}
	conns := &connSet{m: map[*trackedConn]struct{}{}, hooks: hooksFrom(ctx)}
	tl := &trackingListener{Listener: l, conns: conns}
	handlers := newServerHandlers()

	var stopAccepting func()
	switch o.transport {
	case "tcp":
		done := make(chan struct{})
		go func() {
			defer close(done)
			acceptTCP(tl, handlers, o, conns, stderr)
		}()
		stopAccepting = func() { l.Close(); <-done }
		fmt.Fprintf(stdout, "READY tcp://%s\n", l.Addr())
	case "ws":
		srv := newWebSocketHTTPServer(handlers, o, conns, stderr)
		done := make(chan struct{})
		go func() {
			defer close(done)
			srv.Serve(tl)
		}()
		// Close stops the listener and closes the connections http.Server still owns (those
		// not upgraded yet); upgraded (hijacked) ones are closed by conns.closeAll below.
		stopAccepting = func() { srv.Close(); <-done }
		fmt.Fprintf(stdout, "READY ws://%s/gotalk/\n", l.Addr())
	}

	<-ctx.Done()
	// Stop accepting, then close every open connection whatever its state (before, during or
	// after the handshake; idle or busy), then give the connections' goroutines a short,
	// bounded time to see the close and run gotalk's close handling.
	stopAccepting()
	conns.closeAll()
	conns.wait(shutdownGrace)
	return exitOK
}

// shutdownGrace bounds how long serve waits, after closing every connection on SIGTERM or
// SIGINT, for the connections' goroutines to finish.
const shutdownGrace = 500 * time.Millisecond

// acceptTCP accepts connections until l is closed. It does the same as gotalk's
// Server.Accept (NewSock, Adopt, Handshake, Read) through the public Sock API, because
// gotalk's Server runs Sock.Read on a goroutine without recover: a panic in the read loop
// (for example a stream request reusing the id of a finished stream request, which panics
// with "identical request ID in two different requests") would kill the whole process.
// Here such a panic only closes the offending connection. It returns as soon as l is
// closed, without waiting for the connections (closing them is conns' job).
func acceptTCP(l net.Listener, h *gotalk.Handlers, o *serveOptions, conns *connSet, stderr io.Writer) {
	var backoff time.Duration
	for {
		c, err := l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Mirrors gotalk's Server.Accept back-off on temporary errors (e.g. EMFILE).
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		conns.wg.Add(1)
		go func() {
			defer conns.wg.Done()
			serveTCPConn(c, h, o, stderr)
		}()
	}
}

func serveTCPConn(c net.Conn, h *gotalk.Handlers, o *serveOptions, stderr io.Writer) {
	s := gotalk.NewSock(h)
	// NewSock defaults to a 20 s heartbeat; sockets accepted by gotalk's Server get the
	// server's HeartbeatInterval instead, which is 0 (none) unless set.
	s.HeartbeatInterval = o.heartbeat
	st := newConnState()
	s.UserData = st
	s.CloseHandler = func(*gotalk.Sock, int) { st.close() }
	s.Adopt(c)
	if err := s.Handshake(); err != nil {
		return // Handshake already closed the socket
	}
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "go-peer serve: gotalk read loop panicked, closing connection: %v\n", r)
			s.Close()
		}
	}()
	s.Read(o.limits)
}

func newWebSocketHTTPServer(h *gotalk.Handlers, o *serveOptions, conns *connSet, stderr io.Writer) *http.Server {
	ws := gotalk.NewWebSocketServer()
	ws.Handlers = h
	ws.Limits = o.limits
	ws.HeartbeatInterval = o.heartbeat
	ws.OnConnect = func(s *gotalk.WebSocket) {
		st := newConnState()
		s.UserData = st
		s.CloseHandler = func(*gotalk.WebSocket, int) { st.close() }
	}
	// The upgrade handler keeps the reference's origin check: a request without an Origin
	// header (or with "null") is answered 403. It also serves gotalk.js at .../gotalk.js.
	mux := http.NewServeMux()
	mux.Handle("/gotalk/", ws)
	return &http.Server{
		// Counted so that shutdown can wait (boundedly) for upgraded connections' read loops.
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			conns.wg.Add(1)
			defer conns.wg.Done()
			mux.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(stderr, "go-peer serve: http: ", 0),
	}
}

// ---------------------------------------------------------------------------------------------
// Connection tracking for shutdown

// Neither gotalk's Server nor http.Server closes accepted gotalk (or hijacked WebSocket)
// connections when it stops, so serve tracks every accepted net.Conn from the moment it is
// accepted until it is closed, and closes the remaining ones itself.

// trackingListener registers every accepted connection in conns.
type trackingListener struct {
	net.Listener
	conns *connSet
}

func (l *trackingListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		tc := &trackedConn{Conn: c, conns: l.conns}
		if l.conns.add(tc) {
			return tc, nil
		}
		// Shutting down: the listener is already closed, so the next Accept fails.
		c.Close()
	}
}

// trackedConn removes itself from its set when closed. gotalk sees it as the connection:
// deadlines, addresses and Close go through to the real one. (For WebSocket, the hijacked
// connection handed to x/net/websocket is this one too.)
type trackedConn struct {
	net.Conn
	conns     *connSet
	closeOnce sync.Once
	closeErr  error
}

func (c *trackedConn) Close() error {
	c.closeOnce.Do(func() {
		c.conns.remove(c)
		c.closeErr = c.Conn.Close()
	})
	return c.closeErr
}

func (c *trackedConn) SetReadDeadline(t time.Time) error {
	if f := c.conns.hooks.setReadDeadline; f != nil {
		f(t)
	}
	return c.Conn.SetReadDeadline(t)
}

type connSet struct {
	mu      sync.Mutex
	m       map[*trackedConn]struct{}
	closing bool
	wg      sync.WaitGroup // goroutines serving connections
	hooks   serveHooks
}

// add registers c, unless the set is closing.
func (cs *connSet) add(c *trackedConn) bool {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.closing {
		return false
	}
	cs.m[c] = struct{}{}
	return true
}

func (cs *connSet) remove(c *trackedConn) {
	cs.mu.Lock()
	delete(cs.m, c)
	cs.mu.Unlock()
}

// closeAll closes every open connection; later ones are refused by add. gotalk's read loop
// on a closed connection fails and closes its Sock (failing its pending requests and
// running its CloseHandler).
func (cs *connSet) closeAll() {
	cs.mu.Lock()
	cs.closing = true
	open := make([]*trackedConn, 0, len(cs.m))
	for c := range cs.m {
		open = append(open, c)
	}
	cs.mu.Unlock()
	for _, c := range open {
		c.Close()
	}
}

// wait waits up to d for the goroutines serving connections to return.
func (cs *connSet) wait(d time.Duration) {
	done := make(chan struct{})
	go func() {
		cs.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(d):
	}
}

// serveHooks lets tests observe serve from the inside; run's context carries them.
type serveHooks struct {
	// setReadDeadline is called with every read deadline set on an accepted connection.
	setReadDeadline func(time.Time)
}

type serveHooksKey struct{}

func hooksFrom(ctx context.Context) serveHooks {
	h, _ := ctx.Value(serveHooksKey{}).(serveHooks)
	return h
}

// ---------------------------------------------------------------------------------------------
// Per-connection state

type note struct {
	Name  string          `json:"name"`
	Value json.RawMessage `json:"value"`
}

// connState is stored in Sock.UserData.
type connState struct {
	mu    sync.Mutex
	count int
	last  *note

	closed    chan struct{} // closed when the socket closes
	closeOnce sync.Once
}

func newConnState() *connState { return &connState{closed: make(chan struct{})} }

func (st *connState) close() { st.closeOnce.Do(func() { close(st.closed) }) }

func stateOf(s *gotalk.Sock) *connState {
	st, _ := s.UserData.(*connState)
	if st == nil {
		// Not reachable: every accepted socket gets a connState before it reads.
		panic("go-peer: socket without connState")
	}
	return st
}

// noteValue turns a notification payload into the JSON value reported by `notes`:
// the payload itself when it is valid JSON, null when empty, otherwise a JSON string.
func noteValue(payload []byte) json.RawMessage {
	switch {
	case len(payload) == 0:
		return json.RawMessage("null")
	case json.Valid(payload):
		return json.RawMessage(payload)
	default:
		b, _ := json.Marshal(string(payload))
		return b
	}
}

// orNull returns v, or the JSON literal null if v is empty (the field was absent).
func orNull(v json.RawMessage) []byte {
	if len(v) == 0 {
		return []byte("null")
	}
	return v
}

// ---------------------------------------------------------------------------------------------
// Operations

func newServerHandlers() *gotalk.Handlers {
	h := &gotalk.Handlers{}

	h.HandleBufferRequest("echo", func(_ *gotalk.Sock, _ string, p []byte) ([]byte, error) {
		return p, nil
	})

	// A JSON payload that is not a string is answered with ErrorResult
	// "unexpected parameter type" by gotalk's reflection wrapper.
	h.Handle("upper", func(s string) (string, error) {
		return strings.ToUpper(s), nil
	})

	// The error's text becomes the ErrorResult payload, byte for byte.
	h.HandleBufferRequest("fail", func(_ *gotalk.Sock, _ string, p []byte) ([]byte, error) {
		return nil, errors.New(string(p))
	})

	h.HandleBufferRequest("sleep", func(_ *gotalk.Sock, _ string, p []byte) ([]byte, error) {
		var req struct {
			Ms    float64         `json:"ms"`
			Value json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal(p, &req); err != nil {
			return nil, fmt.Errorf("sleep: invalid request: %v", err)
		}
		if req.Ms > 0 {
			time.Sleep(time.Duration(req.Ms * float64(time.Millisecond)))
		}
		return orNull(req.Value), nil
	})

	h.HandleStreamRequest("stream-echo", streamEcho)

	// Mixed kinds. The README allows a streaming request to get a single result and a single
	// request to get a streaming result, but adds that "the current version of the Go package
	// does not provide a high-level API for mixed-kind request-response handling": a stream
	// handler can only write S parts, and a buffer handler can only return one result. So
	// these answer with the kind the reference can produce (the catalogue marks it NON-STRICT):
	// stream-concat with one S part holding the concatenation (then gotalk's empty S), and
	// echo-parts with one R holding the concatenation.
	h.HandleStreamRequest("stream-concat", streamConcat)
	h.HandleBufferRequest("echo-parts", func(_ *gotalk.Sock, _ string, p []byte) ([]byte, error) {
		var req struct {
			Parts []string `json:"parts"`
		}
		if err := json.Unmarshal(p, &req); err != nil {
			return nil, fmt.Errorf("echo-parts: invalid request: %v", err)
		}
		return []byte(strings.Join(req.Parts, "")), nil
	})

	// A slow stream consumer: reads the first part ({"ms":N}), then nothing for N ms, then
	// echoes the remaining parts as stream-echo does. gotalk feeds parts through a one-slot
	// channel from the read loop, so the second part not taken blocks the whole connection.
	h.HandleStreamRequest("stream-block", streamBlock)

	h.HandleBufferRequest("notify-back", func(s *gotalk.Sock, _ string, p []byte) ([]byte, error) {
		var req struct {
			Name  string          `json:"name"`
			Value json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal(p, &req); err != nil {
			return nil, fmt.Errorf("notify-back: invalid request: %v", err)
		}
		if req.Name == "" {
			// gotalk's MakeMsg omits the 3-digit name length when the name is empty, so it
			// would put a malformed notification on the wire.
			return nil, errors.New("notify-back: empty notification name")
		}
		if err := s.BufferNotify(req.Name, orNull(req.Value)); err != nil {
			return nil, fmt.Errorf("notify-back: %v", err)
		}
		return []byte("true"), nil
	})

	h.HandleBufferRequest("call-back", func(s *gotalk.Sock, _ string, p []byte) ([]byte, error) {
		var req struct {
			Op    string          `json:"op"`
			Value json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal(p, &req); err != nil {
			return nil, fmt.Errorf("call-back: invalid request: %v", err)
		}
		if req.Op == "" {
			// Same MakeMsg limitation as for notifications: an empty op cannot be encoded.
			return nil, errors.New("call-back: empty op")
		}
		return callBack(s, req.Op, orNull(req.Value))
	})

	h.HandleBufferRequest("notes", func(s *gotalk.Sock, _ string, _ []byte) ([]byte, error) {
		st := stateOf(s)
		st.mu.Lock()
		defer st.mu.Unlock()
		return json.Marshal(struct {
			Count int   `json:"count"`
			Last  *note `json:"last"`
		}{st.count, st.last})
	})

	// A slow notification handler: takes N ms ({"ms":N}). gotalk runs notification handlers
	// inline on the socket's read loop, so this stalls the whole connection meanwhile (the
	// reference quirk the catalogue observes). Not recorded by notes.
	h.HandleBufferNotification("block", func(_ *gotalk.Sock, _ string, p []byte) {
		var req struct {
			Ms float64 `json:"ms"`
		}
		if json.Unmarshal(p, &req) == nil && req.Ms > 0 {
			time.Sleep(time.Duration(req.Ms * float64(time.Millisecond)))
		}
	})

	// Fallback: every notification, whatever its name. gotalk runs notification handlers
	// inline on the socket's read loop, so this must never block.
	h.HandleBufferNotification("", func(s *gotalk.Sock, name string, p []byte) {
		st := stateOf(s)
		st.mu.Lock()
		st.count++
		st.last = &note{Name: name, Value: noteValue(p)}
		st.mu.Unlock()
	})

	return h
}

// streamEcho answers a streaming request with a streaming result, one result part per
// request part, in order. gotalk delivers the request parts on rch (a one-slot channel fed
// by the read loop): the first part (from the "s" message) is a non-nil slice even when
// empty, and the end of the request (an empty "p") arrives as nil. An empty part cannot be
// echoed because an empty "S" ends the result, so the (only possible) empty first part is
// skipped. When the handler returns nil, gotalk writes the final empty "S".
func streamEcho(s *gotalk.Sock, _ string, rch chan []byte, out io.WriteCloser) error {
	// gotalk never closes rch: if the connection dies mid-stream, nothing more arrives, so
	// also watch for the socket closing.
	closed := stateOf(s).closed
	for {
		select {
		case part := <-rch:
			if part == nil {
				return nil
			}
			if len(part) == 0 {
				continue
			}
			if _, err := out.Write(part); err != nil {
				return err
			}
		case <-closed:
			return gotalk.ErrSockClosed
		}
	}
}

// streamConcat collects every part of a streaming request and answers with their
// concatenation, as one S part (a stream handler cannot send R; see newServerHandlers).
func streamConcat(s *gotalk.Sock, _ string, rch chan []byte, out io.WriteCloser) error {
	closed := stateOf(s).closed
	var all []byte
	for {
		select {
		case part := <-rch:
			if part == nil {
				if len(all) == 0 {
					return nil
				}
				_, err := out.Write(all)
				return err
			}
			all = append(all, part...)
		case <-closed:
			return gotalk.ErrSockClosed
		}
	}
}

// streamBlock takes the first part ({"ms":N}), sleeps N ms without reading rch, then echoes
// the remaining parts.
func streamBlock(s *gotalk.Sock, op string, rch chan []byte, out io.WriteCloser) error {
	closed := stateOf(s).closed
	var first []byte
	select {
	case first = <-rch:
	case <-closed:
		return gotalk.ErrSockClosed
	}
	var req struct {
		Ms float64 `json:"ms"`
	}
	if err := json.Unmarshal(first, &req); err != nil {
		return fmt.Errorf("stream-block: invalid first part: %v", err)
	}
	select {
	case <-time.After(time.Duration(req.Ms * float64(time.Millisecond))):
	case <-closed:
		return gotalk.ErrSockClosed
	}
	return streamEcho(s, op, rch, out)
}

// callBack sends a request to the requester and returns its result. An ErrorResult from
// the requester becomes this request's ErrorResult (same text). Bounded by callBackTimeout,
// since gotalk's BufferRequest waits forever and retries RetryResults forever.
func callBack(s *gotalk.Sock, op string, value []byte) ([]byte, error) {
	type result struct {
		b   []byte
		err error
	}
	ch := make(chan result, 1)
	go func() {
		b, err := s.BufferRequest(op, value)
		ch <- result{b, err}
	}()
	select {
	case r := <-ch:
		return r.b, r.err
	case <-time.After(callBackTimeout):
		return nil, fmt.Errorf("call-back: no result for %q within %v", op, callBackTimeout)
	}
}
