package e2eclient

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// dnsAnswer is what a DNS server said to one question.
type dnsAnswer struct {
	RCode dnsmessage.RCode
	// A and AAAA hold the addresses of the answer section.
	Addrs []netip.Addr
}

func (a dnsAnswer) String() string {
	return fmt.Sprintf("%s %v", strings.TrimPrefix(a.RCode.String(), "RCode"), a.Addrs)
}

// query asks server (UDP host:port), from inside the pod's namespace, one
// question for name and type, with a 2 s deadline. It reads the reply
// itself, so the test sees the exact response code, which a stub resolver
// would hide (retrying search domains, merging A and AAAA).
func (p podNet) query(ctx context.Context, server, name string, qtype dnsmessage.Type) (dnsAnswer, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	qname, err := dnsmessage.NewName(strings.TrimSuffix(name, ".") + ".")
	if err != nil {
		return dnsAnswer{}, err
	}
	id := uint16(time.Now().UnixNano())
	msg := dnsmessage.Message{
		Header:    dnsmessage.Header{ID: id, RecursionDesired: true},
		Questions: []dnsmessage.Question{{Name: qname, Type: qtype, Class: dnsmessage.ClassINET}},
	}
	packet, err := msg.Pack()
	if err != nil {
		return dnsAnswer{}, err
	}
	conn, err := p.DialContext(ctx, "udp", server)
	if err != nil {
		return dnsAnswer{}, err
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	if _, err := conn.Write(packet); err != nil {
		return dnsAnswer{}, err
	}
	buf := make([]byte, 1500)
	for {
		n, err := conn.Read(buf)
		if err != nil {
			return dnsAnswer{}, fmt.Errorf("DNS %s %s from %s: %w", name, qtype, server, err)
		}
		var reply dnsmessage.Message
		if err := reply.Unpack(buf[:n]); err != nil {
			return dnsAnswer{}, fmt.Errorf("DNS %s %s from %s: unparsable reply: %w", name, qtype, server, err)
		}
		if reply.ID != id {
			continue // a late reply to an earlier question
		}
		a := dnsAnswer{RCode: reply.RCode}
		for _, rr := range reply.Answers {
			switch b := rr.Body.(type) {
			case *dnsmessage.AResource:
				a.Addrs = append(a.Addrs, netip.AddrFrom4(b.A))
			case *dnsmessage.AAAAResource:
				a.Addrs = append(a.Addrs, netip.AddrFrom16(b.AAAA))
			}
		}
		return a, nil
	}
}

// resolve looks name up (A) through the client proxy's DNS and returns
// its only address; anything else (an error code, no or several
// addresses) is an error.
func (p podNet) resolve(ctx context.Context, server, name string) (netip.Addr, error) {
	a, err := p.query(ctx, server, name, dnsmessage.TypeA)
	if err != nil {
		return netip.Addr{}, err
	}
	if a.RCode != dnsmessage.RCodeSuccess || len(a.Addrs) != 1 {
		return netip.Addr{}, fmt.Errorf("DNS %s A from %s: %s, want one address", name, server, a)
	}
	return a.Addrs[0], nil
}
