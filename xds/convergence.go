package xds

import (
	"sync"
	"time"
)

// convergenceKeep bounds the publish times remembered per class and type:
// a proxy acknowledging an older version than these is not counted.
const convergenceKeep = 8

// convergence remembers when each type version of each class was
// published, so an ACK of that version on any stream can be timed
// (causeway_convergence_seconds). It has its own lock: the stream
// callbacks must not wait for a build.
type convergence struct {
	mu    sync.Mutex
	times map[string]map[string][]versionTime // class → type URL → recent versions, oldest first
}

type versionTime struct {
	version string
	at      time.Time
}

func (cv *convergence) published(class, typeURL, version string, at time.Time) {
	cv.mu.Lock()
	defer cv.mu.Unlock()
	if cv.times == nil {
		cv.times = map[string]map[string][]versionTime{}
	}
	byType := cv.times[class]
	if byType == nil {
		byType = map[string][]versionTime{}
		cv.times[class] = byType
	}
	vs := append(byType[typeURL], versionTime{version, at})
	if len(vs) > convergenceKeep {
		vs = append(vs[:0:0], vs[len(vs)-convergenceKeep:]...)
	}
	byType[typeURL] = vs
}

// publishedAt returns when class's version of typeURL was published.
func (cv *convergence) publishedAt(class, typeURL, version string) (time.Time, bool) {
	cv.mu.Lock()
	defer cv.mu.Unlock()
	for _, vt := range cv.times[class][typeURL] {
		if vt.version == version {
			return vt.at, true
		}
	}
	return time.Time{}, false
}

func (cv *convergence) forget(class string) {
	cv.mu.Lock()
	defer cv.mu.Unlock()
	delete(cv.times, class)
}

// acked observes, once per ACK, the time from the publication of a type
// version of class to a proxy acknowledging it.
func (s *Server) acked(class, typeURL, version string) {
	if at, ok := s.conv.publishedAt(class, typeURL, version); ok {
		s.metrics.convergence.WithLabelValues(typeURL).Observe(time.Since(at).Seconds())
	}
}
