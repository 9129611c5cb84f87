package file

import (
	"hash/maphash"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/causeway-dev/causeway/internal/yamldoc"
	"github.com/causeway-dev/causeway/model"
)

// docCache remembers the parse of each document of the last load, by a
// digest of the document's bytes (not the bytes: a large world's text is as
// big as its parse), so that a reload after a small edit parses only the
// documents that changed: YAML decoding is almost all the cost of a load,
// and a world of tens of thousands of documents takes seconds to decode.
// The zero value is an empty cache; a nil *docCache caches nothing.
type docCache struct {
	docs map[docKey]*docResult
	// snap is the snapshot of the last world parsed without errors and
	// snapDocs the documents it was parsed from (see snapshot).
	snap     *model.Snapshot
	snapDocs []*docResult
}

// parse returns the docResult of every document, parsing only those the
// cache has not seen, and then remembers exactly this load's documents.
func (c *docCache) parse(raws []yamldoc.Document) []*docResult {
	results := make([]*docResult, len(raws))
	var keys []docKey
	if c != nil {
		keys = make([]docKey, len(raws))
	}
	var missing []int
	for i, raw := range raws {
		if c != nil {
			keys[i] = keyOf(raw.Data)
			results[i] = c.docs[keys[i]]
		}
		if results[i] == nil {
			missing = append(missing, i)
		}
	}
	parseMissing(raws, results, missing)
	if c != nil {
		c.docs = make(map[docKey]*docResult, len(results))
		for i, r := range results {
			c.docs[keys[i]] = r
		}
	}
	return results
}

// docKey identifies bytes without keeping them: two independently seeded
// 64-bit hashes and the length, so that two different documents (or files)
// share a key with a chance of about 2^-128. maphash rather than a
// cryptographic hash: it is many times faster, and the world file is the
// operator's, not an adversary's.
type docKey struct {
	h1, h2 uint64
	n      int
}

var keySeeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}

func keyOf(data []byte) docKey {
	return docKey{maphash.Bytes(keySeeds[0], data), maphash.Bytes(keySeeds[1], data), len(data)}
}

// parallelFrom is how many documents to parse are worth one more goroutine.
const parallelFrom = 64

// parseMissing parses the documents numbered in missing into results,
// on every CPU when there are many (a first load): documents are parsed
// independently of one another.
func parseMissing(raws []yamldoc.Document, results []*docResult, missing []int) {
	workers := min(runtime.GOMAXPROCS(0), len(missing)/parallelFrom)
	if workers <= 1 {
		for _, i := range missing {
			results[i] = parseDocument(raws[i].Data)
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
				results[i] = parseDocument(raws[i].Data)
			}
		})
	}
	wg.Wait()
}
