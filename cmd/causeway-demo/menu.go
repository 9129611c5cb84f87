package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
)

const menuHelp = "d = mark reviews down (not ready)   u = mark them up   s = send 10 requests through the gateway\n" +
	"c = 10 calls from an in-cluster client through its client proxy   q = quit"

// menu reads single-letter commands from in until q, EOF or ctx ends.
func (s *scenario) menu(ctx context.Context, in io.Reader) {
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(in)
		for sc.Scan() {
			select {
			case lines <- strings.TrimSpace(sc.Text()):
			case <-ctx.Done():
				return
			}
		}
	}()
	fmt.Fprintf(s.out, "\n%s\n> ", menuHelp)
	for {
		select {
		case <-ctx.Done():
			fmt.Fprintln(s.out)
			return
		case line, ok := <-lines:
			if !ok {
				fmt.Fprintln(s.out)
				return
			}
			switch line {
			case "q", "quit":
				return
			case "d":
				s.report(s.setReviewsReady(false))
			case "u":
				s.report(s.setReviewsReady(true))
			case "s":
				tl := sendBatch(ctx, s.reviews, batchSize)
				fmt.Fprintf(s.out, "%d requests to %s:\n", tl.Total, s.reviews.URL())
				tl.print(s.out, s.topo)
			case "c":
				if s.client.Name == "" {
					fmt.Fprintln(s.out, "this world gives the demo no client proxy")
				} else {
					s.report(s.sendClient(ctx))
				}
			case "":
			default:
				fmt.Fprintln(s.out, menuHelp)
			}
			fmt.Fprint(s.out, "> ")
		}
	}
}

func (s *scenario) report(err error) {
	if err != nil {
		fmt.Fprintf(s.out, "error: %v\n", err)
	}
}
