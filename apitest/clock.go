package apitest

import (
	"sync"
	"time"
)

// Clock is a test's time, moved by hand (Add) instead of slept on; its Now goes where app.Options takes a
// clock (the dialer's, Collect!'s tokens).
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock answers a Clock at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now answers the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Add moves the clock by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
