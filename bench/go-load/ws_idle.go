package main

import (
	"fmt"
	"net"
	"time"

	"golang.org/x/net/websocket"
)

// dialWS opens a WebSocket to ws://addr+path and exchanges the Gotalk handshake (one binary
// message "01" each way).
func dialWS(addr, path string) (net.Conn, error) {
	cfg, err := websocket.NewConfig("ws://"+addr+path, "http://"+addr)
	if err != nil {
		return nil, err
	}
	cfg.Dialer = &net.Dialer{Timeout: 5 * time.Second}
	ws, err := websocket.DialConfig(cfg)
	if err != nil {
		return nil, err
	}
	ws.PayloadType = websocket.BinaryFrame
	if _, err := ws.Write([]byte("01")); err != nil {
		ws.Close()
		return nil, err
	}
	ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	var v []byte
	if err := websocket.Message.Receive(ws, &v); err != nil {
		ws.Close()
		return nil, fmt.Errorf("handshake: %w", err)
	}
	ws.SetReadDeadline(time.Time{})
	if string(v) != "01" {
		ws.Close()
		return nil, fmt.Errorf("handshake: got %q", v)
	}
	return ws, nil
}
