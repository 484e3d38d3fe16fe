package auth

import (
	"crypto/sha256"
	"sync"
	"time"
)

// CheckCache remembers recent successful password checks, so a client that sends HTTP Basic on every
// request pays for bcrypt once a minute instead of on each call. An entry is tied to the stored hash, so
// a password change invalidates it at once; failures are never cached.
type CheckCache struct {
	mu      sync.Mutex
	ttl     time.Duration
	max     int
	entries map[[32]byte]time.Time
}

// NewCheckCache makes a cache of at most max entries that live for ttl.
func NewCheckCache(ttl time.Duration, max int) *CheckCache {
	return &CheckCache{ttl: ttl, max: max, entries: make(map[[32]byte]time.Time)}
}

func cacheKey(hash, pw string) [32]byte {
	return sha256.Sum256([]byte(hash + "\x00" + pw))
}

// Check is CheckPassword with the cache in front.
func (c *CheckCache) Check(hash, pw string) error {
	key := cacheKey(hash, pw)
	now := time.Now()
	c.mu.Lock()
	exp, ok := c.entries[key]
	c.mu.Unlock()
	if ok && now.Before(exp) {
		return nil
	}
	if err := CheckPassword(hash, pw); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		for k, e := range c.entries { // drop the expired; if none, start over
			if now.After(e) {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= c.max {
			clear(c.entries)
		}
	}
	c.entries[key] = now.Add(c.ttl)
	return nil
}
