package file

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/causeway-dev/causeway/model"
)

// docCache remembers the parse of each document of the last load, by the
// document's bytes, so that a reload after a small edit parses only the
// documents that changed: YAML decoding is almost all the cost of a load,
// and a world of tens of thousands of documents takes seconds to decode.
// The zero value is an empty cache; a nil *docCache caches nothing.
type docCache struct {
	docs map[string]*docResult
	// snap is the snapshot of the last world parsed without errors and
	// snapDocs the documents it was parsed from (see snapshot).
	snap     *model.Snapshot
	snapDocs []*docResult
}

// parse returns the docResult of every document, parsing only those the
// cache has not seen, and then remembers exactly this load's documents.
func (c *docCache) parse(raws []rawDocument) []*docResult {
	results := make([]*docResult, len(raws))
	var missing []int
	for i, raw := range raws {
		if c != nil {
			results[i] = c.docs[string(raw.data)]
		}
		if results[i] == nil {
			missing = append(missing, i)
		}
	}
	parseMissing(raws, results, missing)
	if c != nil {
		c.docs = make(map[string]*docResult, len(results))
		for _, r := range results {
			c.docs[r.src] = r
		}
	}
	return results
}

// parallelFrom is how many documents to parse are worth one more goroutine.
const parallelFrom = 64

// parseMissing parses the documents numbered in missing into results,
// on every CPU when there are many (a first load): documents are parsed
// independently of one another.
func parseMissing(raws []rawDocument, results []*docResult, missing []int) {
	workers := min(runtime.GOMAXPROCS(0), len(missing)/parallelFrom)
	if workers <= 1 {
		for _, i := range missing {
			results[i] = parseDocument(raws[i].data)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				n := int(next.Add(1)) - 1
				if n >= len(missing) {
					return
				}
				i := missing[n]
				results[i] = parseDocument(raws[i].data)
			}
		})
	}
	wg.Wait()
}
