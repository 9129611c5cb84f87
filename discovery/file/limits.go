package file

import (
	"bytes"
	"fmt"
	"io"
	"os"
)

// MaxWorldFileBytes bounds the world file. Parsing holds the whole file and
// its decoded objects in memory, and a watched file is re-read on every
// change, so a runaway generator or a wrong path (a log, a disk image) must
// fail with a clear error instead of exhausting the control plane's memory.
// Real worlds are far below it: 16 MiB is tens of thousands of objects.
const MaxWorldFileBytes = 16 << 20

// errTooLarge names the file and its size so the fix is obvious.
func errTooLarge(name string, size int64) error {
	return fmt.Errorf("%s: world file is %d bytes, over the limit of %d bytes (16 MiB); split or trim it", name, size, MaxWorldFileBytes)
}

// readWorld reads path, refusing files over MaxWorldFileBytes without
// reading more than one byte past the limit (the file may grow between the
// stat and the read).
func readWorld(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var buf bytes.Buffer
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		if fi.Size() > MaxWorldFileBytes {
			return nil, errTooLarge(path, fi.Size())
		}
		// Sized once: io.ReadAll's doubling allocated six times the
		// file per reload, and a large world is reloaded on every edit.
		buf.Grow(int(fi.Size()) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(io.LimitReader(f, MaxWorldFileBytes+1)); err != nil {
		return nil, err
	}
	if buf.Len() > MaxWorldFileBytes {
		return nil, errTooLarge(path, int64(buf.Len()))
	}
	return buf.Bytes(), nil
}
