package lbstandin

import (
	"fmt"
	"net/netip"
)

// pool hands out the host addresses of a prefix, lowest free first; an
// address stays with its owner until released.
type pool struct {
	prefix netip.Prefix
	owner  map[netip.Addr]string
	byKey  map[string]netip.Addr
}

func newPool(prefix netip.Prefix) (*pool, error) {
	if !prefix.IsValid() || !prefix.Addr().Is4() {
		return nil, fmt.Errorf("address pool %v: want an IPv4 prefix", prefix)
	}
	if prefix.Bits() > 30 {
		return nil, fmt.Errorf("address pool %v: too small, want /30 or larger", prefix)
	}
	return &pool{prefix: prefix.Masked(), owner: map[netip.Addr]string{}, byKey: map[string]netip.Addr{}}, nil
}

// get returns key's address, allocating one on first use.
func (p *pool) get(key string) (netip.Addr, error) {
	if a, ok := p.byKey[key]; ok {
		return a, nil
	}
	// Skip the network address; stop before the broadcast address.
	for a := p.prefix.Addr().Next(); p.prefix.Contains(a.Next()); a = a.Next() {
		if _, taken := p.owner[a]; !taken {
			p.owner[a] = key
			p.byKey[key] = a
			return a, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("address pool %v exhausted (%d Services hold its addresses)", p.prefix, len(p.byKey))
}

// release frees key's address, if it has one.
func (p *pool) release(key string) {
	if a, ok := p.byKey[key]; ok {
		delete(p.owner, a)
		delete(p.byKey, key)
	}
}
