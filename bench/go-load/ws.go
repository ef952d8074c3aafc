package main

// The WebSocket transport of the pipeline mode: a raw RFC 6455 client, so that the requests of
// one flush go out in one write like over TCP, each request as two binary messages (its Gotalk
// header, then its payload, as gotalk.js sends them) or, with --coalesce, as one. Results are
// read as a byte stream whatever their message boundaries.

import (
	"bufio"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// wsMessage appends one masked binary message carrying p to b.
func wsMessage(b []byte, p []byte) []byte {
	b = append(b, 0x82)
	switch n := len(p); {
	case n < 126:
		b = append(b, 0x80|byte(n))
	case n < 1<<16:
		b = append(b, 0x80|126, byte(n>>8), byte(n))
	default:
		b = append(b, 0x80|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	var key [4]byte
	rand.Read(key[:])
	b = append(b, key[:]...)
	for i, c := range p {
		b = append(b, c^key[i&3])
	}
	return b
}

// wsRequest is a request frame as WebSocket messages: header and payload apart, or one.
func wsRequest(frame []byte, payloadLen int, coalesce bool) []byte {
	if coalesce || payloadLen == 0 {
		return wsMessage(nil, frame)
	}
	head := len(frame) - payloadLen
	return wsMessage(wsMessage(nil, frame[:head]), frame[head:])
}

// wsReader unwraps the server's messages into one byte stream.
type wsReader struct {
	r    *bufio.Reader
	left uint64
}

func (w *wsReader) Read(p []byte) (int, error) {
	for w.left == 0 {
		var h [2]byte
		if _, err := io.ReadFull(w.r, h[:]); err != nil {
			return 0, err
		}
		if h[1]&0x80 != 0 {
			return 0, errors.New("websocket: a masked frame from the server")
		}
		n := uint64(h[1] & 0x7f)
		switch n {
		case 126:
			var e [2]byte
			if _, err := io.ReadFull(w.r, e[:]); err != nil {
				return 0, err
			}
			n = uint64(binary.BigEndian.Uint16(e[:]))
		case 127:
			var e [8]byte
			if _, err := io.ReadFull(w.r, e[:]); err != nil {
				return 0, err
			}
			n = binary.BigEndian.Uint64(e[:])
		}
		switch op := h[0] & 0x0f; op {
		case 0, 1, 2: // data, continuation included
			w.left = n
		case 8:
			return 0, io.EOF
		default: // ping, pong: not expected here, skipped
			if _, err := w.r.Discard(int(n)); err != nil {
				return 0, err
			}
		}
	}
	if uint64(len(p)) > w.left {
		p = p[:w.left]
	}
	n, err := w.r.Read(p)
	w.left -= uint64(n)
	return n, err
}

// dialPipeline (pipeline and idle) connects over TCP, or over WebSocket at wsPath if given, and exchanges the
// handshake; the reader yields the server's bytes.
func dialPipeline(addr, wsPath string) (net.Conn, *bufio.Reader, error) {
	if wsPath == "" {
		return dial(addr)
	}
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, nil, err
	}
	c.(*net.TCPConn).SetNoDelay(true)
	fail := func(err error) (net.Conn, *bufio.Reader, error) {
		c.Close()
		return nil, nil, err
	}
	var k [16]byte
	rand.Read(k[:])
	key := base64.StdEncoding.EncodeToString(k[:])
	req := fmt.Sprintf("GET %s HTTP/1.1\r\nHost: %s\r\nOrigin: http://%s\r\nUpgrade: websocket\r\n"+
		"Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n",
		wsPath, addr, addr, key)
	if _, err := c.Write(append([]byte(req), wsMessage(nil, []byte("01"))...)); err != nil {
		return fail(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	raw := bufio.NewReaderSize(c, 256<<10)
	res, err := http.ReadResponse(raw, nil)
	if err != nil {
		return fail(fmt.Errorf("websocket upgrade: %w", err))
	}
	sum := sha1.Sum([]byte(key + wsGUID))
	if res.StatusCode != 101 || !strings.EqualFold(res.Header.Get("Upgrade"), "websocket") ||
		res.Header.Get("Sec-WebSocket-Accept") != base64.StdEncoding.EncodeToString(sum[:]) {
		return fail(fmt.Errorf("websocket upgrade refused: %s", res.Status))
	}
	r := bufio.NewReaderSize(&wsReader{r: raw}, 256<<10)
	var v [2]byte
	if _, err := io.ReadFull(r, v[:]); err != nil {
		return fail(fmt.Errorf("handshake: %w", err))
	}
	c.SetReadDeadline(time.Time{})
	if string(v[:]) != "01" {
		return fail(fmt.Errorf("handshake: got %q", v))
	}
	return c, r, nil
}
