package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// ErrUnreachable: nothing answered at the admin address.
var ErrUnreachable = errors.New("admin endpoint unreachable")

// ErrNotFound: the admin server has no such object (an unknown node).
var ErrNotFound = errors.New("not found")

// maxBody bounds an answer the client reads (1,000 proxies with every
// type NACKed take about 10 MiB).
const maxBody = 64 << 20

// Client reads the admin endpoints of one `causeway serve`.
type Client struct {
	// Address is the admin listener's host:port (--admin-address).
	Address string
	HTTP    *http.Client
}

// Proxies returns every connected proxy's streams.
func (c Client) Proxies(ctx context.Context) (ProxyList, error) {
	var out ProxyList
	err := c.get(ctx, "/debug/proxies", &out)
	return out, err
}

// Proxy returns the streams of one node; ErrNotFound when it has none.
func (c Client) Proxy(ctx context.Context, node string) (ProxyList, error) {
	var out ProxyList
	err := c.get(ctx, "/debug/proxies/"+url.PathEscape(node), &out)
	return out, err
}

func (c Client) get(ctx context.Context, path string, into any) error {
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	u := "http://" + c.Address + path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("admin address %q: %w", c.Address, err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("%w at %s: %v", ErrUnreachable, c.Address, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e errorBody
		msg := strings.TrimSpace(string(body))
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			msg = e.Error
		}
		if resp.StatusCode == http.StatusNotFound {
			return fmt.Errorf("%w: %s", ErrNotFound, msg)
		}
		return fmt.Errorf("GET %s: %s: %s", u, resp.Status, msg)
	}
	if err := json.Unmarshal(body, into); err != nil {
		return fmt.Errorf("GET %s: answer is not the admin API's JSON (is %s causeway's --admin-address?): %w", u, c.Address, err)
	}
	return nil
}
