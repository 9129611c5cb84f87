package nodeagent

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"time"
)

// maxLogBytes caps one container log file; past it the older half goes.
const maxLogBytes = 10 << 20

// maxLineBytes splits longer lines, as CRI runtimes do (tag "P").
const maxLineBytes = 64 << 10

// containerLog is one run's output of a container, one line per write in
// the CRI log format: "<RFC3339Nano> <stream> <F|P> <text>".
type containerLog struct {
	path string
	mu   sync.Mutex
	f    *os.File
	size int64
}

func newContainerLog(path string) (*containerLog, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	return &containerLog{path: path, f: f}, nil
}

// copyLines reads r (a container's stdout or stderr) to EOF, writing each
// line with its arrival time.
func (l *containerLog) copyLines(stream string, r io.Reader) {
	br := bufio.NewReaderSize(r, maxLineBytes)
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			tag := "F"
			if line[len(line)-1] == '\n' {
				line = line[:len(line)-1]
			} else if err == bufio.ErrBufferFull {
				tag = "P"
			}
			l.write(fmt.Sprintf("%s %s %s %s\n", time.Now().UTC().Format(time.RFC3339Nano), stream, tag, line))
		}
		if err != nil && err != bufio.ErrBufferFull {
			return
		}
	}
}

func (l *containerLog) write(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return
	}
	n, _ := l.f.WriteString(s)
	l.size += int64(n)
	if l.size > maxLogBytes {
		l.keepTail()
	}
}

// keepTail rewrites the file with its newer half, from a line start.
func (l *containerLog) keepTail() {
	data, err := os.ReadFile(l.path)
	if err != nil {
		return
	}
	data = data[len(data)-maxLogBytes/2:]
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		data = data[i+1:]
	}
	tmp := l.path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return
	}
	if err := os.Rename(tmp, l.path); err != nil {
		return
	}
	l.f.Close()
	l.f, _ = os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND, 0o644)
	l.size = int64(len(data))
}

func (l *containerLog) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f != nil {
		l.f.Close()
		l.f = nil
	}
}

// logOptions are the kubelet's containerLogs query parameters (the
// apiserver's PodLogOptions).
type logOptions struct {
	since      time.Time // zero: all
	tailLines  int64     // <0: all
	limitBytes int64     // <=0: unlimited
	timestamps bool
	follow     bool
	previous   bool
	stream     string // "", "All", "Stdout", "Stderr"
}

func parseLogOptions(q map[string][]string, now time.Time) (logOptions, error) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	o := logOptions{tailLines: -1, timestamps: get("timestamps") == "true", follow: get("follow") == "true",
		previous: get("previous") == "true", stream: get("stream")}
	if s := get("sinceTime"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return o, fmt.Errorf("sinceTime %q: %v", s, err)
		}
		o.since = t
	}
	if s := get("sinceSeconds"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			return o, fmt.Errorf("sinceSeconds %q: want a positive integer", s)
		}
		if t := now.Add(-time.Duration(n) * time.Second); t.After(o.since) {
			o.since = t
		}
	}
	for _, p := range []struct {
		key string
		dst *int64
	}{{"tailLines", &o.tailLines}, {"limitBytes", &o.limitBytes}} {
		if s := get(p.key); s != "" {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil || n < 0 {
				return o, fmt.Errorf("%s %q: want a non-negative integer", p.key, s)
			}
			*p.dst = n
		}
	}
	return o, nil
}

// logEntry is one parsed line of a log file.
type logEntry struct {
	at     time.Time
	stream string
	text   []byte // with its newline unless a partial line
}

func parseLogLine(line []byte) (logEntry, bool) {
	f := bytes.SplitN(line, []byte(" "), 4)
	if len(f) < 4 {
		return logEntry{}, false
	}
	at, err := time.Parse(time.RFC3339Nano, string(f[0]))
	if err != nil {
		return logEntry{}, false
	}
	text := f[3]
	if string(f[2]) == "F" {
		text = append(text, '\n')
	}
	return logEntry{at: at, stream: string(f[1]), text: text}, true
}

// render writes the entries of data selected by o to w; it returns how
// many bytes of the limit remain (o.limitBytes <= 0: unlimited, -1).
func render(w io.Writer, data []byte, o logOptions, budget int64) int64 {
	var entries []logEntry
	for _, line := range bytes.Split(data, []byte("\n")) {
		e, ok := parseLogLine(line)
		if !ok || (!o.since.IsZero() && e.at.Before(o.since)) || !o.wants(e.stream) {
			continue
		}
		entries = append(entries, e)
	}
	if o.tailLines >= 0 && int64(len(entries)) > o.tailLines {
		entries = entries[int64(len(entries))-o.tailLines:]
	}
	for _, e := range entries {
		out := e.text
		if o.timestamps {
			out = append([]byte(e.at.Format(time.RFC3339Nano)+" "), out...)
		}
		if budget >= 0 {
			if int64(len(out)) > budget {
				out = out[:budget]
			}
			budget -= int64(len(out))
		}
		if _, err := w.Write(out); err != nil || budget == 0 {
			return 0
		}
	}
	return budget
}

func (o logOptions) wants(stream string) bool {
	switch o.stream {
	case "Stdout":
		return stream == "stdout"
	case "Stderr":
		return stream == "stderr"
	}
	return true
}
