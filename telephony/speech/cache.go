package speech

import (
	"container/list"
	"crypto/sha256"
	"sync"
)

// cacheKey identifies a synthesized sentence: the same text from the same
// engine, version, voice and speed (all in TTS.Name) sounds the same.
type cacheKey [sha256.Size]byte

func keyFor(engine, text string) cacheKey {
	h := sha256.New()
	h.Write([]byte(engine))
	h.Write([]byte{0})
	h.Write([]byte(text))
	var k cacheKey
	h.Sum(k[:0])
	return k
}

// sentenceCache is a bounded LRU of synthesized sentences, stored as 8 kHz
// µ-law (8 kB per second: 512 six-second sentences are 24 MB). Values are
// never modified after they are stored, so readers share them.
type sentenceCache struct {
	mu    sync.Mutex
	max   int
	order *list.List // front = most recently used; elements hold *cacheEntry
	items map[cacheKey]*list.Element

	hits, misses int64
}

type cacheEntry struct {
	key  cacheKey
	ulaw []byte
}

// newSentenceCache returns a cache of at most max sentences; max <= 0
// gives a cache that stores nothing.
func newSentenceCache(max int) *sentenceCache {
	return &sentenceCache{max: max, order: list.New(), items: map[cacheKey]*list.Element{}}
}

func (c *sentenceCache) get(k cacheKey) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.items[k]
	if !ok {
		c.misses++
		return nil, false
	}
	c.hits++
	c.order.MoveToFront(e)
	return e.Value.(*cacheEntry).ulaw, true
}

func (c *sentenceCache) put(k cacheKey, ulaw []byte) {
	if c.max <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[k]; ok {
		e.Value.(*cacheEntry).ulaw = ulaw
		c.order.MoveToFront(e)
		return
	}
	c.items[k] = c.order.PushFront(&cacheEntry{key: k, ulaw: ulaw})
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.items, last.Value.(*cacheEntry).key)
	}
}

// CacheStats reports the sentence cache's counters.
type CacheStats struct {
	Entries      int
	Hits, Misses int64
}

func (c *sentenceCache) stats() CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return CacheStats{Entries: c.order.Len(), Hits: c.hits, Misses: c.misses}
}
