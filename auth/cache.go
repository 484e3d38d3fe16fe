package auth

import (
	"crypto/sha256"
	"sync"
	"time"
)

// Cache is a small map whose entries expire after a fixed time; when full it drops expired entries,
// or everything if none has expired. It keeps hot credential checks off bcrypt and off the store.
type Cache[K comparable, V any] struct {
	mu      sync.Mutex
	ttl     time.Duration
	max     int
	entries map[K]cacheEntry[V]
}

type cacheEntry[V any] struct {
	v   V
	exp time.Time
}

// NewCache makes a cache of at most max entries that live for ttl.
func NewCache[K comparable, V any](ttl time.Duration, max int) *Cache[K, V] {
	return &Cache[K, V]{ttl: ttl, max: max, entries: make(map[K]cacheEntry[V])}
}

// Get answers the live value of k.
func (c *Cache[K, V]) Get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok || time.Now().After(e.exp) {
		var zero V
		return zero, false
	}
	return e.v, true
}

// Put stores v under k for the cache's ttl.
func (c *Cache[K, V]) Put(k K, v V) {
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		for key, e := range c.entries {
			if now.After(e.exp) {
				delete(c.entries, key)
			}
		}
		if len(c.entries) >= c.max {
			clear(c.entries)
		}
	}
	c.entries[k] = cacheEntry[V]{v: v, exp: now.Add(c.ttl)}
}

// Delete drops k, so the next Get misses: a writer that changed what k stands for need not wait for the ttl.
func (c *Cache[K, V]) Delete(k K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, k)
}

// checkCache remembers recent successful password checks, so a client that sends HTTP Basic on every
// request pays for bcrypt once a minute instead of on each call. An entry is tied to the stored hash, so
// a password change invalidates it at once; the Guard never caches a failure.
type checkCache struct{ c *Cache[[32]byte, struct{}] }

func newCheckCache(ttl time.Duration, max int) *checkCache {
	return &checkCache{c: NewCache[[32]byte, struct{}](ttl, max)}
}

// hit and put let the Guard consult the cache around its own throttled, bounded comparison.
func (c *checkCache) hit(hash, pw string) bool {
	_, ok := c.c.Get(checkKey(hash, pw))
	return ok
}

func (c *checkCache) put(hash, pw string) { c.c.Put(checkKey(hash, pw), struct{}{}) }

func checkKey(hash, pw string) [32]byte { return sha256.Sum256([]byte(hash + "\x00" + pw)) }
