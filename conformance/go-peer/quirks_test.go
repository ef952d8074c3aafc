package main

// Reference quirks of the gotalk Go API that do not show on the wire, so the catalogue (which
// only sees bytes) cannot observe them. Each test pins one; the coverage map in
// conformance/catalogue/coverage.ts points here.

import (
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/rsms/gotalk"
)

// TestQuirkCloseHandlerCodePlusOne: Sock.CloseHandler receives the ProtocolError code plus
// one (0 means "closed without a protocol error"), not the code its doc comment promises.
func TestQuirkCloseHandlerCodePlusOne(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(testTimeout))
		// Read the client's version first: closing with unread input would reset the
		// connection, and the client would see the reset rather than the ProtocolError.
		version := make([]byte, 2)
		if _, err := io.ReadFull(c, version); err != nil {
			return
		}
		c.Write([]byte("01f00000002")) // version, then ProtocolError 2 (invalid message)
	}()
	codes := make(chan int, 1)
	s := gotalk.NewSock(gotalk.NewHandlers())
	s.HeartbeatInterval = 0
	s.CloseHandler = func(_ *gotalk.Sock, code int) { codes <- code }
	if err := s.Connect("tcp", l.Addr().String(), gotalk.DefaultLimits); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-codes:
		if code != gotalk.ProtocolErrorInvalidMsg+1 {
			t.Fatalf("CloseHandler got %d, want %d (ProtocolError 2 + 1)", code, gotalk.ProtocolErrorInvalidMsg+1)
		}
	case <-time.After(testTimeout):
		t.Fatal("CloseHandler was not called")
	}
}

// TestQuirkEqualRetryWaitsPanic: with BufferMinWait == BufferMaxWait, the server panics
// (rand.Intn(0)) in its read loop the first time the buffer-request limit is hit.
func TestQuirkEqualRetryWaitsPanic(t *testing.T) {
	server, client := net.Pipe()
	defer client.Close()
	limits := &gotalk.Limits{
		BufferRequests: 0, // every buffer request is over the limit
		StreamRequests: gotalk.Unlimited,
		BufferMinWait:  time.Second,
		BufferMaxWait:  time.Second,
	}
	h := gotalk.NewHandlers()
	h.HandleBufferRequest("echo", func(_ *gotalk.Sock, _ string, p []byte) ([]byte, error) { return p, nil })
	panicked := make(chan any, 1)
	go func() {
		defer func() { panicked <- recover() }()
		s := gotalk.NewSock(h)
		s.Adopt(server)
		if err := s.Handshake(); err != nil {
			panicked <- nil
			return
		}
		s.Read(limits)
	}()
	client.SetDeadline(time.Now().Add(testTimeout))
	// The server writes its version first; net.Pipe writes wait for the reader.
	version := make([]byte, 2)
	if _, err := io.ReadFull(client, version); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Write([]byte("01")); err != nil {
		t.Fatal(err)
	}
	go client.Write([]byte("ra001004echo00000002hi")) // net.Pipe writes wait for the reader
	select {
	case r := <-panicked:
		if r == nil || !strings.Contains(strings.ToLower(toString(r)), "intn") {
			t.Fatalf("read loop ended with %v, want a rand.Intn panic", r)
		}
	case <-time.After(testTimeout):
		t.Fatal("the server neither panicked nor ended")
	}
}

func toString(v any) string {
	if e, ok := v.(error); ok {
		return e.Error()
	}
	if s, ok := v.(string); ok {
		return s
	}
	return ""
}

// TestQuirkSubHandlerFallbackNeverReached: a lookup in a sub-handler set falls through to
// the parent set before trying the sub-set's own fallback, which the parent's lookup never
// consults: the sub-set's fallback is never reached.
func TestQuirkSubHandlerFallbackNeverReached(t *testing.T) {
	parent := gotalk.NewHandlers()
	sub := parent.NewSubHandlers()
	sub.HandleBufferRequest("", func(*gotalk.Sock, string, []byte) ([]byte, error) { return nil, nil })
	sub.HandleBufferNotification("", func(*gotalk.Sock, string, []byte) {})
	if sub.FindBufferRequestHandler("anything") != nil {
		t.Error("the sub-set's request fallback was found")
	}
	if sub.FindNotificationHandler("anything") != nil {
		t.Error("the sub-set's notification fallback was found")
	}
	// With a fallback on the parent, the parent's is used, even from the sub-set.
	parentFallback := false
	parent.HandleBufferRequest("", func(*gotalk.Sock, string, []byte) ([]byte, error) {
		parentFallback = true
		return nil, nil
	})
	if h := sub.FindBufferRequestHandler("anything"); h == nil {
		t.Fatal("no handler found")
	} else if h(nil, "anything", nil); !parentFallback {
		t.Error("the found handler is not the parent's fallback")
	}
}
