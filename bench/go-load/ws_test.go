package main

import (
	"bufio"
	"bytes"
	"io"
	"testing"
)

// unmask decodes one client message of b (as a server reads it): its payload and the rest.
func unmask(t *testing.T, b []byte) ([]byte, []byte) {
	t.Helper()
	if b[0] != 0x82 || b[1]&0x80 == 0 {
		t.Fatalf("not a masked binary message: % x", b[:2])
	}
	n, at := int(b[1]&0x7f), 2
	switch n {
	case 126:
		n, at = int(b[2])<<8|int(b[3]), 4
	case 127:
		n, at = 0, 10
		for _, c := range b[2:10] {
			n = n<<8 | int(c)
		}
	}
	key := b[at : at+4]
	p := make([]byte, n)
	for i := range p {
		p[i] = b[at+4+i] ^ key[i&3]
	}
	return p, b[at+4+n:]
}

func TestWSRequestSplitsHeaderAndPayload(t *testing.T) {
	for _, size := range []int64{0, 16, 200, 70000} {
		payload := pattern(size)
		frame := requestFrame(slotID(3), "echo", payload)
		head, rest := unmask(t, wsRequest(frame, len(payload), false))
		if size == 0 {
			if !bytes.Equal(head, frame) || len(rest) != 0 {
				t.Fatalf("size 0: want one message")
			}
			continue
		}
		body, rest := unmask(t, rest)
		if !bytes.Equal(append(head, body...), frame) || !bytes.Equal(body, payload) || len(rest) != 0 {
			t.Fatalf("size %d: header and payload not as two messages", size)
		}
		one, rest := unmask(t, wsRequest(frame, len(payload), true))
		if !bytes.Equal(one, frame) || len(rest) != 0 {
			t.Fatalf("size %d: --coalesce is not one message", size)
		}
	}
}

func TestWSReaderJoinsMessages(t *testing.T) {
	var in bytes.Buffer
	in.Write([]byte{0x02, 3, 'a', 'b', 'c'}) // binary, not final
	in.Write([]byte{0x89, 1, 'x'})           // ping between fragments: skipped
	in.Write([]byte{0x80, 2, 'd', 'e'})      // final continuation
	in.Write(append([]byte{0x82, 126, 0x01, 0x00}, bytes.Repeat([]byte{'f'}, 256)...))
	in.Write([]byte{0x88, 0}) // close: the end
	got, err := io.ReadAll(&wsReader{r: bufio.NewReader(&in)})
	if err != nil {
		t.Fatal(err)
	}
	want := append([]byte("abcde"), bytes.Repeat([]byte{'f'}, 256)...)
	if !bytes.Equal(got, want) {
		t.Fatalf("got %q", got)
	}
}
