package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rsms/gotalk"
	"golang.org/x/net/websocket"
)

// testTimeout bounds every wait in these tests.
const testTimeout = 10 * time.Second

var readyRE = regexp.MustCompile(`^READY (tcp://127\.0\.0\.1:[0-9]+|ws://127\.0\.0\.1:[0-9]+/gotalk/)$`)

// TestMain lets the test binary act as go-peer itself, for the subprocess tests.
func TestMain(m *testing.M) {
	if os.Getenv("GO_PEER_TEST_AS_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// awaitReady reads the first line from r and returns the URL it announces.
func awaitReady(t *testing.T, r io.Reader) string {
	t.Helper()
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(r).ReadString('\n')
		line <- strings.TrimSuffix(s, "\n")
		io.Copy(io.Discard, r) // never block the writer
	}()
	select {
	case l := <-line:
		m := readyRE.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("first stdout line %q does not match %s", l, readyRE)
		}
		return m[1]
	case <-time.After(testTimeout):
		t.Fatal("serve did not print READY in time")
	}
	return ""
}

// startServe runs `serve` in-process until the test ends and returns its URL.
func startServe(t *testing.T, args ...string) string {
	t.Helper()
	return startServeCtx(t, context.Background(), args...)
}

// startServeCtx is startServe with a parent context (which may carry serveHooks).
func startServeCtx(t *testing.T, parent context.Context, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(parent)
	pr, pw := io.Pipe()
	stderr := &syncBuffer{}
	exited := make(chan int, 1)
	go func() {
		code := run(ctx, append([]string{"serve"}, args...), pw, stderr)
		pw.Close()
		exited <- code
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-exited:
			if code != exitOK {
				t.Errorf("serve exited %d; stderr:\n%s", code, stderr)
			}
		case <-time.After(testTimeout):
			t.Errorf("serve did not stop within %v", testTimeout)
		}
	})
	return awaitReady(t, pr)
}

// runChecks runs `check` in-process against url.
func runChecks(t *testing.T, url string, extra ...string) (int, []checkReport, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), append([]string{"check", "--url", url}, extra...), &stdout, &stderr)
	var reports []checkReport
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		if line == "" {
			continue
		}
		var r checkReport
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("check printed a line that is not JSON: %q", line)
		}
		if r.OK != (r.MS != nil) || r.OK != (r.Detail == "") {
			t.Errorf("malformed report line %q", line)
		}
		reports = append(reports, r)
	}
	return code, reports, stderr.String()
}

func TestFullCheck(t *testing.T) {
	for _, transport := range []string{"tcp", "ws"} {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			url := startServe(t, "--transport", transport, "--addr", "127.0.0.1:0")
			code, reports, stderr := runChecks(t, url)
			if len(reports) != len(checks) {
				t.Fatalf("got %d report lines, want %d; stderr: %s", len(reports), len(checks), stderr)
			}
			for i, r := range reports {
				if r.ID != checks[i].id {
					t.Errorf("report %d has id %q, want %q", i, r.ID, checks[i].id)
				}
				if !r.OK {
					t.Errorf("check %s failed: %s", r.ID, r.Detail)
				}
			}
			if code != exitOK {
				t.Errorf("check exited %d, want 0", code)
			}
		})
	}
}

func TestCheckOnly(t *testing.T) {
	url := startServe(t, "--transport", "tcp")
	code, reports, _ := runChecks(t, url, "--only", "call-back, echo-small")
	if code != exitOK || len(reports) != 2 || reports[0].ID != "call-back" || reports[1].ID != "echo-small" {
		t.Fatalf("got exit %d, reports %+v", code, reports)
	}
}

// TestCheckIdle: --idle alone runs just the idle check, which passes against a server with
// no read timeout and no heartbeats when the idle time is short.
func TestCheckIdle(t *testing.T) {
	for _, transport := range []string{"tcp", "ws"} {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			url := startServe(t, "--transport", transport)
			code, reports, stderr := runChecks(t, url, "--idle", "300")
			if code != exitOK || len(reports) != 1 || reports[0].ID != "idle" || !reports[0].OK {
				t.Fatalf("got exit %d, reports %+v; stderr: %s", code, reports, stderr)
			}
			if ms := *reports[0].MS; ms < 300 {
				t.Errorf("idle check took %v ms, less than the idle time", ms)
			}
		})
	}
}

// TestCheckIdleDropped: a server whose read timeout is shorter than the idle time (and than
// the Go client's 20 s heartbeat interval) closes the connection with f00000003; the check
// fails and reports the protocol error (CloseHandler's code - 1).
func TestCheckIdleDropped(t *testing.T) {
	for _, transport := range []string{"tcp", "ws"} {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			url := startServe(t, "--transport", transport, "--read-timeout", "100")
			code, reports, _ := runChecks(t, url, "--idle", "300")
			if code != exitFailed || len(reports) != 1 || reports[0].ID != "idle" || reports[0].OK {
				t.Fatalf("got exit %d, reports %+v", code, reports)
			}
			d := reports[0].Detail
			for _, want := range []string{"into the 300ms idle time", "protocol error 3 (timeout, f00000003), sent by the server"} {
				if !strings.Contains(d, want) {
					t.Errorf("detail %q does not contain %q", d, want)
				}
			}
		})
	}
}

func TestCheckIdleWithOnly(t *testing.T) {
	url := startServe(t, "--transport", "tcp")
	code, reports, _ := runChecks(t, url, "--idle", "50", "--only", "echo-small,idle")
	if code != exitOK || len(reports) != 2 || reports[0].ID != "echo-small" || reports[1].ID != "idle" {
		t.Fatalf("got exit %d, reports %+v", code, reports)
	}
}

// TestServeReadTimeout30s: --read-timeout 30000 gives accepted sockets (tcp and ws) a read
// deadline 30 s ahead, the same as gotalk's DefaultLimits; without it gotalk sets none.
func TestServeReadTimeout30s(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want time.Duration
	}{{nil, 0}, {[]string{"--read-timeout", "30000"}, 30 * time.Second}} {
		o, err := parseServeArgs(tc.args, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if o.limits.ReadTimeout != tc.want {
			t.Errorf("%q: Limits.ReadTimeout %v, want %v", tc.args, o.limits.ReadTimeout, tc.want)
		}
	}
	if gotalk.DefaultLimits.ReadTimeout != 30*time.Second {
		t.Errorf("gotalk.DefaultLimits.ReadTimeout is %v", gotalk.DefaultLimits.ReadTimeout)
	}

	for _, transport := range []string{"tcp", "ws"} {
		for _, readTimeout := range []string{"", "30000"} {
			t.Run(transport+"/"+readTimeout, func(t *testing.T) {
				t.Parallel()
				var mu sync.Mutex
				var ahead []time.Duration // how far ahead each read deadline was set (0: cleared)
				hooks := serveHooks{setReadDeadline: func(d time.Time) {
					mu.Lock()
					defer mu.Unlock()
					if d.IsZero() {
						ahead = append(ahead, 0)
					} else {
						ahead = append(ahead, time.Until(d))
					}
				}}
				args := []string{"--transport", transport}
				if readTimeout != "" {
					args = append(args, "--read-timeout", readTimeout)
				}
				url := startServeCtx(t, context.WithValue(context.Background(), serveHooksKey{}, hooks), args...)
				if code, reports, _ := runChecks(t, url, "--only", "echo-small"); code != exitOK {
					t.Fatalf("check: %+v", reports)
				}
				mu.Lock()
				defer mu.Unlock()
				n := 0
				for _, d := range ahead {
					if d > 29*time.Second && d <= 30*time.Second {
						n++
					} else if d > 11*time.Second { // http.Server's own: ReadHeaderTimeout 10 s
						t.Errorf("read deadline %v ahead", d)
					}
				}
				// One before each message read: the echo request at least, and the wait
				// for the next message.
				if readTimeout == "" && n != 0 || readTimeout != "" && n < 2 {
					t.Errorf("%d read deadlines 30 s ahead; all: %v", n, ahead)
				}
			})
		}
	}
}

// TestCheckUnreachable: nothing listening makes the check fail, and check exits 1.
func TestCheckUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there any more
	code, reports, _ := runChecks(t, "tcp://"+addr, "--only", "echo-small")
	if code != exitFailed || len(reports) != 1 || reports[0].OK {
		t.Fatalf("got exit %d, reports %+v", code, reports)
	}
}

// TestCheckSilentServer: a server that accepts but never speaks makes the check fail within
// the connect timeout instead of hanging.
func TestCheckSilentServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	start := time.Now()
	code, reports, _ := runChecks(t, "tcp://"+l.Addr().String(), "--only", "echo-small")
	if code != exitFailed || len(reports) != 1 || reports[0].OK {
		t.Fatalf("got exit %d, reports %+v", code, reports)
	}
	if d := time.Since(start); d > checkTimeout+time.Second {
		t.Errorf("check took %v", d)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"frobnicate"},
		{"serve", "--max-payload", "1048576"},
		{"serve", "--transport", "udp"},
		{"serve", "--read-timeout", "-1"},
		{"serve", "--no-such-option"},
		{"check"},
		{"check", "--url", "http://127.0.0.1:1/"},
		{"check", "--url", "tcp://127.0.0.1:1", "--only", "no-such-check"},
		{"check", "--url", "tcp://127.0.0.1:1", "--only", "idle"}, // needs --idle
		{"check", "--url", "tcp://127.0.0.1:1", "--idle", "-1"},
		{"check", "--url", "tcp://127.0.0.1:1", "--idle", "1.5"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), args, &stdout, &stderr)
		if code != exitUsage {
			t.Errorf("%q: exit %d, want %d", args, code, exitUsage)
		}
		if stdout.Len() != 0 {
			t.Errorf("%q: printed %q on stdout", args, stdout.String())
		}
		if stderr.Len() == 0 {
			t.Errorf("%q: printed nothing on stderr", args)
		}
	}
}

// TestBinary runs the real command as a subprocess: READY line, a check against it, and
// exit status 0 on SIGTERM / SIGINT.
func TestBinary(t *testing.T) {
	for _, tc := range []struct {
		transport string
		sig       syscall.Signal
	}{{"tcp", syscall.SIGTERM}, {"ws", syscall.SIGINT}} {
		t.Run(tc.transport, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 3*testTimeout)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "serve", "--transport", tc.transport, "--addr", "127.0.0.1:0")
			cmd.Env = append(os.Environ(), "GO_PEER_TEST_AS_MAIN=1")
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			cmd.Stderr = &syncBuffer{}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			url := awaitReady(t, stdout)
			code, reports, _ := runChecks(t, url, "--only", "echo-binary,stream-echo,call-back")
			if code != exitOK {
				t.Errorf("check exited %d: %+v", code, reports)
			}
			if err := cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			if err := cmd.Wait(); err != nil {
				t.Fatalf("serve after %v: %v; stderr:\n%s", tc.sig, err, cmd.Stderr)
			}
		})
	}
}

// TestBinaryShutdownClosesConnections: on SIGTERM, serve closes every open connection (idle
// ones included, before or after the gotalk handshake) and exits 0 promptly, without
// waiting for the clients to hang up.
func TestBinaryShutdownClosesConnections(t *testing.T) {
	const bound = 3 * time.Second
	for _, transport := range []string{"tcp", "ws"} {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "serve", "--transport", transport, "--addr", "127.0.0.1:0")
			cmd.Env = append(os.Environ(), "GO_PEER_TEST_AS_MAIN=1")
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			stderr := &syncBuffer{}
			cmd.Stderr = stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var waitErr error
			exited := make(chan struct{})
			go func() {
				waitErr = cmd.Wait()
				close(exited)
			}()
			t.Cleanup(func() {
				cmd.Process.Kill()
				<-exited
			})
			serveURL := awaitReady(t, stdout)
			u, err := url.Parse(serveURL)
			if err != nil {
				t.Fatal(err)
			}

			// Idle clients: each waits for the server to close its connection, reading (and
			// dropping) whatever comes first, and returns the error that ended the reading:
			// nil for EOF, a timeout error if the connection stayed open.
			var clients []func() error
			// A TCP connection that never says anything (no gotalk or HTTP handshake).
			silent, err := net.DialTimeout("tcp", u.Host, testTimeout)
			if err != nil {
				t.Fatal(err)
			}
			defer silent.Close()
			clients = append(clients, func() error {
				silent.SetReadDeadline(time.Now().Add(bound))
				_, err := io.ReadAll(silent) // the server's version "01" first
				return err
			})
			switch transport {
			case "tcp":
				rc := dialRaw(t, serveURL) // handshake done, then idle
				clients = append(clients, func() error {
					rc.c.SetReadDeadline(time.Now().Add(bound))
					_, err := io.ReadAll(rc.r)
					return err
				})
			case "ws":
				cfg, err := websocket.NewConfig(serveURL, "http://127.0.0.1")
				if err != nil {
					t.Fatal(err)
				}
				ws, err := websocket.DialConfig(cfg)
				if err != nil {
					t.Fatal(err)
				}
				defer ws.Close()
				ws.PayloadType = websocket.BinaryFrame
				ws.SetDeadline(time.Now().Add(testTimeout))
				ws.Write([]byte("01"))
				var v []byte
				if err := websocket.Message.Receive(ws, &v); err != nil || string(v) != "01" {
					t.Fatalf("ws handshake: %q, %v", v, err)
				}
				clients = append(clients, func() error {
					ws.SetDeadline(time.Now().Add(bound))
					for {
						if err := websocket.Message.Receive(ws, &v); err != nil {
							if err == io.EOF {
								return nil
							}
							return err
						}
					}
				})
			}
			time.Sleep(100 * time.Millisecond) // let serve register the connections

			start := time.Now()
			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			select {
			case <-exited:
				if waitErr != nil {
					t.Fatalf("serve after SIGTERM: %v; stderr:\n%s", waitErr, stderr)
				}
			case <-time.After(bound):
				t.Fatalf("serve still running %v after SIGTERM with idle connections open", bound)
			}
			t.Logf("serve exited %v after SIGTERM", time.Since(start).Round(time.Millisecond))
			for i, wait := range clients {
				// EOF (nil) or a reset both mean closed.
				if err := wait(); errors.Is(err, os.ErrDeadlineExceeded) {
					t.Errorf("client %d: connection still open after serve exited (read: %v)", i, err)
				}
			}
		})
	}
}

func TestStreamsDisabled(t *testing.T) {
	url := startServe(t, "--transport", "tcp", "--max-stream-requests", "0")
	code, reports, _ := runChecks(t, url, "--only", "stream-echo,echo-small")
	if code != exitFailed || len(reports) != 2 || reports[0].OK || !reports[1].OK {
		t.Fatalf("got exit %d, reports %+v", code, reports)
	}
	// On the wire: ErrorResult for the "s"; any "p" that follows for that id is an
	// "illegal message" and the reference drops the connection without a ProtocolError
	// (which, over TCP, can reset the connection before the client reads the ErrorResult).
	rc := dialRaw(t, url)
	rc.send(gotalk.MsgTypeStreamReq, "s001", "stream-echo", "x")
	if m := rc.read(); m.t != gotalk.MsgTypeErrorRes || string(m.payload) != "stream requests not supported" {
		t.Fatalf("got %c %q", m.t, m.payload)
	}
	rc.send(gotalk.MsgTypeStreamReqPart, "s001", "", "")
	rc.expectEOF()
}

// ---------------------------------------------------------------------------------------------
// Raw wire tests: what the reference puts on the wire (the quirks listed in README.md).

type wireMsg struct {
	t       gotalk.MsgType
	id      string
	name    string
	wait    uint32
	payload []byte // for h: nil; for f: nil (size holds the code)
	size    uint32
}

type rawConn struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

// dialRaw connects to a tcp:// URL and does the version handshake.
func dialRaw(t *testing.T, tcpURL string) *rawConn {
	t.Helper()
	u, err := url.Parse(tcpURL)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.DialTimeout("tcp", u.Host, testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(testTimeout))
	rc := &rawConn{t: t, c: c, r: bufio.NewReader(c)}
	rc.write("01")
	if v := rc.readN(2); string(v) != "01" {
		t.Fatalf("server version %q, want 01", v)
	}
	return rc
}

func (rc *rawConn) write(parts ...string) {
	rc.t.Helper()
	for _, p := range parts {
		if _, err := rc.c.Write([]byte(p)); err != nil {
			rc.t.Fatal(err)
		}
	}
}

// msg encodes one message with gotalk.MakeMsg, followed by its payload.
func msg(t gotalk.MsgType, id, name string, payload string) string {
	return string(gotalk.MakeMsg(t, id, name, 0, uint32(len(payload)))) + payload
}

// send writes one message.
func (rc *rawConn) send(t gotalk.MsgType, id, name string, payload string) {
	rc.t.Helper()
	rc.write(msg(t, id, name, payload))
}

func (rc *rawConn) readN(n int) []byte {
	rc.t.Helper()
	b := make([]byte, n)
	if _, err := io.ReadFull(rc.r, b); err != nil {
		rc.t.Fatalf("reading %d bytes: %v", n, err)
	}
	return b
}

func (rc *rawConn) read() wireMsg {
	rc.t.Helper()
	t, id, name, wait, size, err := gotalk.ReadMsg(rc.r, make([]byte, 128))
	if err != nil {
		rc.t.Fatalf("reading a message: %v", err)
	}
	m := wireMsg{t: t, id: id, name: name, wait: wait, size: size}
	if t != gotalk.MsgTypeHeartbeat && t != gotalk.MsgTypeProtocolError {
		m.payload = rc.readN(int(size))
	}
	return m
}

// expectEOF asserts that the server closes the connection.
func (rc *rawConn) expectEOF() {
	rc.t.Helper()
	if b, err := rc.r.ReadByte(); err == nil {
		rc.t.Fatalf("got byte %q, want the connection closed", b)
	}
}

func TestWireErrorTexts(t *testing.T) {
	rc := dialRaw(t, startServe(t, "--transport", "tcp"))
	rc.send(gotalk.MsgTypeSingleReq, "a001", "nope", "x")
	if m := rc.read(); m.t != gotalk.MsgTypeErrorRes || m.id != "a001" || string(m.payload) != `unknown operation "nope"` {
		t.Errorf("unknown op: got %c %q %q", m.t, m.id, m.payload)
	}
	// Buffer and stream handlers are separate namespaces.
	rc.send(gotalk.MsgTypeStreamReq, "a002", "echo", "x")
	if m := rc.read(); m.t != gotalk.MsgTypeErrorRes || string(m.payload) != `unknown operation "echo"` {
		t.Errorf("echo as a stream: got %c %q", m.t, m.payload)
	}
	// A JSON handler given something that is not of its parameter type.
	rc.send(gotalk.MsgTypeSingleReq, "a003", "upper", "42")
	if m := rc.read(); m.t != gotalk.MsgTypeErrorRes || string(m.payload) != "unexpected parameter type" {
		t.Errorf("upper(42): got %c %q", m.t, m.payload)
	}
}

func TestWireStreamEchoEmptyFirstPart(t *testing.T) {
	rc := dialRaw(t, startServe(t, "--transport", "tcp"))
	rc.send(gotalk.MsgTypeStreamReq, "s001", "stream-echo", "")
	rc.send(gotalk.MsgTypeStreamReqPart, "s001", "", "ab")
	rc.send(gotalk.MsgTypeStreamReqPart, "s001", "", "")
	for _, want := range []string{"ab", ""} {
		if m := rc.read(); m.t != gotalk.MsgTypeStreamRes || m.id != "s001" || string(m.payload) != want {
			t.Fatalf("got %c %q %q, want S s001 %q", m.t, m.id, m.payload, want)
		}
	}
}

// TestWireStreamIDReuse: the reference keeps a finished stream's id registered, and a new
// stream request with that id panics in the read loop. gotalk's own Server would crash the
// process; go-peer closes just that connection.
func TestWireStreamIDReuse(t *testing.T) {
	url := startServe(t, "--transport", "tcp")
	rc := dialRaw(t, url)
	for i := 0; i < 2; i++ {
		// One write: the server may close the connection as soon as it has read the "s".
		rc.write(msg(gotalk.MsgTypeStreamReq, "s001", "stream-echo", "x") +
			msg(gotalk.MsgTypeStreamReqPart, "s001", "", ""))
		if i == 1 {
			break
		}
		for _, want := range []string{"x", ""} {
			if m := rc.read(); m.t != gotalk.MsgTypeStreamRes || string(m.payload) != want {
				t.Fatalf("got %c %q, want S %q", m.t, m.payload, want)
			}
		}
	}
	rc.expectEOF()
	rc2 := dialRaw(t, url)
	rc2.send(gotalk.MsgTypeSingleReq, "a001", "echo", "still up")
	if m := rc2.read(); m.t != gotalk.MsgTypeSingleRes || string(m.payload) != "still up" {
		t.Fatalf("got %c %q", m.t, m.payload)
	}
}

// TestWireEmptyNameNotification: a notification with an empty name has a 12-byte header,
// but the reference always reads 13 bytes first, so it swallows the first byte of the next
// message, loses sync and drops the connection: the request that follows is never answered.
func TestWireEmptyNameNotification(t *testing.T) {
	rc := dialRaw(t, startServe(t, "--transport", "tcp"))
	rc.write("n00000000000" + msg(gotalk.MsgTypeSingleReq, "a001", "echo", "hi"))
	b, err := io.ReadAll(rc.r) // ends with EOF or a reset
	if err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("Ra001")) {
		t.Fatalf("the request after the notification was answered: %q", b)
	}
}

func TestWireReadTimeout(t *testing.T) {
	rc := dialRaw(t, startServe(t, "--transport", "tcp", "--read-timeout", "200"))
	start := time.Now()
	b, err := io.ReadAll(rc.r)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != "f00000003" {
		t.Fatalf("got %q, want f00000003 then close", b)
	}
	if d := time.Since(start); d < 150*time.Millisecond || d > 2*time.Second {
		t.Errorf("closed after %v, want about the 200 ms read timeout", d)
	}
}

func TestWireHeartbeat(t *testing.T) {
	rc := dialRaw(t, startServe(t, "--transport", "tcp", "--heartbeat", "50"))
	for i := 0; i < 3; i++ {
		m := rc.read()
		if m.t != gotalk.MsgTypeHeartbeat {
			t.Fatalf("got %c, want h", m.t)
		}
		if age := time.Since(time.Unix(int64(m.size), 0)); age < -2*time.Second || age > 2*time.Second {
			t.Errorf("heartbeat time %d is %v off", m.size, age)
		}
	}
}

func TestWireBufferLimitRetry(t *testing.T) {
	rc := dialRaw(t, startServe(t, "--transport", "tcp", "--max-buffer-requests", "1"))
	rc.send(gotalk.MsgTypeSingleReq, "a001", "sleep", `{"ms":300,"value":1}`)
	rc.send(gotalk.MsgTypeSingleReq, "a002", "echo", "x")
	m := rc.read()
	if m.t != gotalk.MsgTypeRetryRes || m.id != "a002" || string(m.payload) != "request rate limit" {
		t.Fatalf("got %c %q %q, want e a002 \"request rate limit\"", m.t, m.id, m.payload)
	}
	if m.wait < 500 || m.wait >= 5000 {
		t.Errorf("retry wait %d ms, want 500 <= wait < 5000", m.wait)
	}
	if m := rc.read(); m.t != gotalk.MsgTypeSingleRes || m.id != "a001" || string(m.payload) != "1" {
		t.Fatalf("got %c %q %q, want R a001 1", m.t, m.id, m.payload)
	}
}

// TestWireWebSocket: header and payload travel as separate binary messages, and an
// upgrade without Origin is refused.
func TestWireWebSocket(t *testing.T) {
	wsURL := startServe(t, "--transport", "ws")

	req, _ := http.NewRequest("GET", strings.Replace(wsURL, "ws://", "http://", 1), nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	res, err := (&http.Client{Timeout: testTimeout}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("upgrade without Origin: status %d, want 403", res.StatusCode)
	}

	cfg, err := websocket.NewConfig(wsURL, "http://127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	ws, err := websocket.DialConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	ws.SetDeadline(time.Now().Add(testTimeout))
	ws.PayloadType = websocket.BinaryFrame
	ws.Write([]byte("01"))
	ws.Write([]byte("ra001004echo00000002hi"))
	var got []string
	for len(got) < 3 {
		var msg []byte
		if err := websocket.Message.Receive(ws, &msg); err != nil {
			t.Fatal(err)
		}
		got = append(got, string(msg))
	}
	if want := []string{"01", "Ra00100000002", "hi"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("messages %q, want %q", got, want)
	}
}

// TestWireMixedKinds: the reference cannot answer a streaming request with a single result,
// nor a single request with a streaming result (no API for it), so go-peer answers
// stream-concat with S parts and echo-parts with R.
func TestWireMixedKinds(t *testing.T) {
	rc := dialRaw(t, startServe(t, "--transport", "tcp"))
	rc.write(msg(gotalk.MsgTypeStreamReq, "s001", "stream-concat", "ab") +
		msg(gotalk.MsgTypeStreamReqPart, "s001", "", "cd") +
		msg(gotalk.MsgTypeStreamReqPart, "s001", "", ""))
	for _, want := range []string{"abcd", ""} {
		if m := rc.read(); m.t != gotalk.MsgTypeStreamRes || string(m.payload) != want {
			t.Fatalf("stream-concat: got %c %q, want S %q", m.t, m.payload, want)
		}
	}
	rc.send(gotalk.MsgTypeSingleReq, "a001", "echo-parts", `{"parts":["x","y"]}`)
	if m := rc.read(); m.t != gotalk.MsgTypeSingleRes || string(m.payload) != "xy" {
		t.Fatalf("echo-parts: got %c %q, want R \"xy\"", m.t, m.payload)
	}
}

// TestWireSlowConsumersStall: notification handlers run inline on the read loop, and stream
// parts go through a one-slot channel, so a slow consumer delays everything after it.
func TestWireSlowConsumersStall(t *testing.T) {
	const block = 300 * time.Millisecond
	rc := dialRaw(t, startServe(t, "--transport", "tcp"))
	start := time.Now()
	rc.write(msg(gotalk.MsgTypeNotification, "", "block", `{"ms":300}`) +
		msg(gotalk.MsgTypeSingleReq, "a001", "echo", "x"))
	if m := rc.read(); m.t != gotalk.MsgTypeSingleRes || m.id != "a001" {
		t.Fatalf("got %c %q", m.t, m.id)
	}
	if d := time.Since(start); d < block {
		t.Errorf("echo after a blocking notification answered after %v, want >= %v", d, block)
	}
	start = time.Now()
	rc.write(msg(gotalk.MsgTypeStreamReq, "s001", "stream-block", `{"ms":300}`) +
		msg(gotalk.MsgTypeStreamReqPart, "s001", "", "a") +
		msg(gotalk.MsgTypeStreamReqPart, "s001", "", "b") +
		msg(gotalk.MsgTypeSingleReq, "a002", "echo", "x"))
	for {
		m := rc.read()
		if m.t == gotalk.MsgTypeSingleRes && m.id == "a002" {
			break
		}
	}
	if d := time.Since(start); d < block {
		t.Errorf("echo after a blocked stream answered after %v, want >= %v", d, block)
	}
}
