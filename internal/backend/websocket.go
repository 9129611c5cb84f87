package backend

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/coder/websocket"
)

// WebSocketPath is where a backend accepts WebSocket connections and
// echoes every message back with its type (text or binary).
const WebSocketPath = "/ws"

// Bounds of one WebSocket connection: a peer cannot make the backend hold
// a large message or an idle connection forever.
const (
	wsMaxMessage  = 64 << 10
	wsIdleTimeout = 30 * time.Second
)

// serveWebSocket upgrades the request and echoes messages until the peer
// closes, stays idle for wsIdleTimeout, sends more than wsMaxMessage bytes
// at once, or the server closes (r's context ends with the server's base
// context, also for the hijacked connection).
func serveWebSocket(w http.ResponseWriter, r *http.Request) {
	// Any Origin: browsers' cross-origin checks are the gateway's CORS
	// business, not this stand-in app's.
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return // Accept has answered the request with the reason
	}
	defer c.CloseNow()
	c.SetReadLimit(wsMaxMessage)
	for {
		if err := echoOne(r.Context(), c); err != nil {
			if websocket.CloseStatus(err) == websocket.StatusNormalClosure || errors.Is(err, context.Canceled) {
				_ = c.Close(websocket.StatusNormalClosure, "")
			}
			return
		}
	}
}

// echoOne reads one message and writes it back, within wsIdleTimeout.
func echoOne(ctx context.Context, c *websocket.Conn) error {
	ctx, cancel := context.WithTimeout(ctx, wsIdleTimeout)
	defer cancel()
	typ, msg, err := c.Read(ctx)
	if err != nil {
		return err
	}
	return c.Write(ctx, typ, msg)
}
