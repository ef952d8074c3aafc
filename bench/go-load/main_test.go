package main

import (
	"encoding/json"
	"io"
	"math"
	"net"
	"testing"
	"time"

	"github.com/rsms/gotalk"
)

func TestHistogram(t *testing.T) {
	for _, v := range []uint64{0, 1, 127, 128, 129, 255, 256, 1000, 12345, 999999, 1 << 40, 1 << 62} {
		b := bucketOf(v)
		if b < 0 || b >= 4096 {
			t.Fatalf("bucketOf(%d) = %d, out of range", v, b)
		}
		if got := float64(bucketValue(b)); v > 0 && math.Abs(got-float64(v))/float64(v) > 0.02 {
			t.Fatalf("bucketValue(bucketOf(%d)) = %v, more than 2%% off", v, got)
		}
	}
	var h hist
	for i := 1; i <= 1000; i++ {
		h.add(int64(i) * 1000) // 1 µs to 1 ms
	}
	if p50 := h.quantile(0.5); math.Abs(p50-500) > 10 {
		t.Fatalf("p50 = %v µs, want about 500", p50)
	}
	if p99 := h.quantile(0.99); math.Abs(p99-990) > 20 {
		t.Fatalf("p99 = %v µs, want about 990", p99)
	}
}

func TestSlotIDs(t *testing.T) {
	for slot := 0; slot < 32768; slot++ {
		id := slotID(slot)
		for shift := 0; shift < 32; shift += 8 {
			if c := byte(id >> shift); c < 0x21 || c > 0x7e {
				t.Fatalf("slot %d: id %08x is not printable", slot, id)
			}
		}
		if slotOf(id) != slot {
			t.Fatalf("slotOf(slotID(%d)) = %d", slot, slotOf(id))
		}
	}
}

// serveGotalk starts a gotalk v1.3.7 server with echo, stream-echo and sleep, as the
// conformance peers serve them.
func serveGotalk(t *testing.T) string {
	h := gotalk.NewHandlers()
	h.HandleBufferRequest("echo", func(_ *gotalk.Sock, _ string, p []byte) ([]byte, error) {
		return p, nil
	})
	h.HandleBufferRequest("sleep", func(_ *gotalk.Sock, _ string, p []byte) ([]byte, error) {
		var req struct {
			Ms float64 `json:"ms"`
		}
		if err := json.Unmarshal(p, &req); err != nil {
			return nil, err
		}
		time.Sleep(time.Duration(req.Ms * float64(time.Millisecond)))
		return []byte("null"), nil
	})
	h.HandleStreamRequest("stream-echo",
		func(_ *gotalk.Sock, _ string, rch chan []byte, out io.WriteCloser) error {
			for part := range rch {
				if part == nil {
					return nil
				}
				if len(part) > 0 {
					if _, err := out.Write(part); err != nil {
						return err
					}
				}
			}
			return nil
		})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := gotalk.NewServer(h, &gotalk.Limits{
		BufferRequests: gotalk.Unlimited,
		StreamRequests: gotalk.Unlimited,
	}, l)
	go s.Accept()
	t.Cleanup(func() { s.Close() })
	return l.Addr().String()
}

func TestModesAgainstGotalk(t *testing.T) {
	addr := serveGotalk(t)
	quick := []string{"--warmup", "50ms", "--duration", "200ms", "--addr", addr}
	for _, c := range []struct {
		name string
		run  func([]string) (any, error)
		args []string
	}{
		{"pipeline 16 B x 64", runPipeline, append([]string{"--inflight", "64"}, quick...)},
		{"pipeline 64 KiB x 4, 3 conns", runPipeline,
			append([]string{"--inflight", "4", "--size", "64KiB", "--conns", "3"}, quick...)},
		{"gotalk-client", runGotalkClient, append([]string{"--inflight", "4"}, quick...)},
		{"stream", runStream,
			[]string{"--bytes", "2MiB", "--warmup-bytes", "256KiB", "--window", "512KiB", "--addr", addr}},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, err := c.run(c.args)
			if err != nil {
				t.Fatal(err)
			}
			r := out.(result)
			if r.Requests == 0 || r.RPS <= 0 || r.MBps <= 0 || r.P50us <= 0 || r.P99us < r.P50us {
				t.Fatalf("implausible result %+v", r)
			}
		})
	}
	t.Run("idle", func(t *testing.T) {
		if _, err := runIdle([]string{"--conns", "20", "--hold", "10ms", "--addr", addr}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("sleepers", func(t *testing.T) {
		out, err := runSleepers([]string{"--conns", "2", "--inflight", "20", "--ms", "20", "--addr", addr})
		if err != nil {
			t.Fatal(err)
		}
		if n := out.(map[string]any)["answered"]; n != 40 {
			t.Fatalf("answered %v, want 40", n)
		}
	})
}
