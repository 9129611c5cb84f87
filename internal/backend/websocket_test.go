package backend

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func startWS(t *testing.T) (*Server, *websocket.Conn) {
	t.Helper()
	s, err := Start("127.0.0.1:0", Info{Cluster: "cluster-1", Instance: "ws-1", Version: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws://"+s.Addr()+WebSocketPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.CloseNow() })
	return s, c
}

func TestWebSocketEchoesTextAndBinary(t *testing.T) {
	_, c := startWS(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, m := range []struct {
		typ  websocket.MessageType
		data []byte
	}{{websocket.MessageText, []byte("hello")}, {websocket.MessageBinary, []byte{0, 1, 2, 255}}, {websocket.MessageText, []byte("again")}} {
		if err := c.Write(ctx, m.typ, m.data); err != nil {
			t.Fatal(err)
		}
		typ, got, err := c.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if typ != m.typ || !bytes.Equal(got, m.data) {
			t.Errorf("echo = %v %q, want %v %q", typ, got, m.typ, m.data)
		}
	}
	if err := c.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.Errorf("close: %v", err)
	}
}

func TestWebSocketRefusesOversizedMessage(t *testing.T) {
	_, c := startWS(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Write(ctx, websocket.MessageText, []byte(strings.Repeat("x", wsMaxMessage+1))); err != nil {
		t.Fatal(err)
	}
	_, _, err := c.Read(ctx)
	if got := websocket.CloseStatus(err); got != websocket.StatusMessageTooBig {
		t.Errorf("after an oversized message: %v (close status %v), want close status %v", err, got, websocket.StatusMessageTooBig)
	}
}

// TestWebSocketEndsWithServer: Close ends open WebSocket connections,
// which http.Server.Shutdown leaves alone once hijacked.
func TestWebSocketEndsWithServer(t *testing.T) {
	s, c := startWS(t)
	done := make(chan error, 1)
	go func() {
		_, _, err := c.Read(context.Background())
		done <- err
	}()
	start := time.Now()
	if err := s.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	select {
	case err := <-done:
		if err == nil {
			t.Error("read after the server closed returned a message")
		}
		t.Logf("connection ended %v after Close: %v", time.Since(start).Round(time.Millisecond), err)
	case <-time.After(10 * time.Second):
		t.Fatal("the WebSocket connection outlived the server by 10s")
	}
}
