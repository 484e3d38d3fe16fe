package auth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// guardFixture is a Guard with a fake clock and a compare that counts calls and records their hashes.
type guardFixture struct {
	g        *Guard
	clock    *fakeClock
	compares atomic.Int64
	mu       sync.Mutex
	hashes   []string
}

func newGuardFixture(t *testing.T, cfg GuardConfig) *guardFixture {
	t.Helper()
	f := &guardFixture{g: NewGuard(cfg), clock: &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}}
	f.g.now = f.clock.Now
	f.g.compare = func(hash, pw string) error {
		f.compares.Add(1)
		f.mu.Lock()
		f.hashes = append(f.hashes, hash)
		f.mu.Unlock()
		return CheckPassword(hash, pw)
	}
	return f
}

var (
	rightHashOnce sync.Once
	rightHash     string
)

// knownHash is the stored hash of the password "right".
func knownHash(t *testing.T) string {
	rightHashOnce.Do(func() {
		h, err := HashPassword("right")
		if err != nil {
			t.Fatal(err)
		}
		rightHash = h
	})
	return rightHash
}

func throttled(t *testing.T, err error) *ThrottledError {
	t.Helper()
	var te *ThrottledError
	if !errors.As(err, &te) {
		t.Fatalf("want *ThrottledError, got %v", err)
	}
	if te.RetryAfter <= 0 || te.Seconds() < 1 {
		t.Fatalf("RetryAfter = %v, want > 0", te.RetryAfter)
	}
	return te
}

// An unknown user costs one bcrypt comparison at HashCost, exactly like a wrong password for a known user.
func TestGuardUnknownUserDoesOneCompare(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		found bool
		hash  string
	}{
		{"unknown user", false, ""},
		{"known user, wrong password", true, knownHash(t)},
		{"known user without a hash", true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newGuardFixture(t, GuardConfig{})
			err := f.g.Check(ctx, "nobody", "10.0.0.1", tc.hash, tc.found, "wrong")
			if !errors.Is(err, ErrBadPassword) {
				t.Fatalf("err = %v, want ErrBadPassword", err)
			}
			if n := f.compares.Load(); n != 1 {
				t.Fatalf("%d comparisons, want 1", n)
			}
			cost, err := bcrypt.Cost([]byte(f.hashes[0]))
			if err != nil || cost != HashCost {
				t.Fatalf("compared against a hash of cost %d (%v), want %d", cost, err, HashCost)
			}
		})
	}
}

func TestGuardThrottlesPerUsername(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		found bool
	}{{"known user", true}, {"unknown user", false}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newGuardFixture(t, GuardConfig{MaxFailures: 3})
			hash := knownHash(t)
			for i := range 3 {
				// A new address each time: only the username's count can trip. Case and spaces do not
				// make a new username.
				login := []string{"Ada", "ada", " ADA "}[i]
				addr := fmt.Sprintf("10.0.0.%d", i)
				if err := f.g.Check(ctx, login, addr, hash, tc.found, "wrong"); !errors.Is(err, ErrBadPassword) {
					t.Fatalf("attempt %d: %v", i, err)
				}
			}
			before := f.compares.Load()
			te := throttled(t, f.g.Check(ctx, "ada", "10.0.1.1", hash, tc.found, "right"))
			if te.RetryAfter > time.Minute {
				t.Fatalf("RetryAfter = %v, longer than the window", te.RetryAfter)
			}
			if want := "too many failed logins, retry in 60 s"; te.Error() != want {
				t.Fatalf("text %q, want %q", te.Error(), want)
			}
			if n := f.compares.Load(); n != before {
				t.Fatalf("%d comparisons while throttled", n-before)
			}
			if err := f.g.Check(ctx, "grace", "10.0.1.1", hash, tc.found, "wrong"); !errors.Is(err, ErrBadPassword) {
				t.Fatalf("another username refused: %v", err)
			}
		})
	}
}

func TestGuardThrottlesPerAddress(t *testing.T) {
	ctx := context.Background()
	f := newGuardFixture(t, GuardConfig{MaxFailures: 3})
	hash := knownHash(t)
	// Ports differ and IPv6 counts per /64: all of these are one client.
	for i, addr := range []string{"[2001:db8::1]:4000", "[2001:db8::2]:4001", "2001:db8::3"} {
		if err := f.g.Check(ctx, fmt.Sprintf("user%d", i), addr, "", false, "wrong"); !errors.Is(err, ErrBadPassword) {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	before := f.compares.Load()
	// Even a correct, cached credential is refused from a throttled address.
	f.g.cache.put(hash, "right")
	throttled(t, f.g.Check(ctx, "ada", "[2001:db8::9]:80", hash, true, "right"))
	if n := f.compares.Load(); n != before {
		t.Fatalf("%d comparisons while throttled", n-before)
	}
	if err := f.g.Check(ctx, "ada", "[2001:db8:0:1::1]:80", hash, true, "right"); err != nil {
		t.Fatalf("another address refused: %v", err)
	}
}

func TestAddrKey(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		same bool
	}{
		{"192.0.2.1:1234", "192.0.2.1", true},
		{"192.0.2.1", "192.0.2.2", false},
		{"::ffff:192.0.2.1", "192.0.2.1", true},
		{"[2001:db8::1]:80", "2001:db8::ffff", true},
		{"2001:db8::1", "2001:db8:0:1::1", false},
		{"fe80::1%eth0", "fe80::2", true},
		{"not-an-ip", "not-an-ip", true},
		{"not-an-ip", "other", false},
	} {
		if got := addrKey(tc.a) == addrKey(tc.b); got != tc.same {
			t.Errorf("addrKey(%q) == addrKey(%q): %v, want %v", tc.a, tc.b, got, tc.same)
		}
	}
	if addrKey("") != noKey {
		t.Error("empty address is tracked")
	}
}

func TestGuardSuccessResetsUsername(t *testing.T) {
	ctx := context.Background()
	f := newGuardFixture(t, GuardConfig{MaxFailures: 3})
	hash := knownHash(t)
	attempt := 0
	fail := func() error {
		attempt++
		return f.g.Check(ctx, "ada", fmt.Sprintf("10.0.0.%d", attempt), hash, true, "wrong")
	}
	for range 2 {
		if err := fail(); !errors.Is(err, ErrBadPassword) {
			t.Fatal(err)
		}
	}
	if err := f.g.Check(ctx, "ada", "10.0.0.99", hash, true, "right"); err != nil {
		t.Fatal(err)
	}
	for range 3 { // would be throttled at the second if the two earlier failures still counted
		if err := fail(); !errors.Is(err, ErrBadPassword) {
			t.Fatalf("throttled after a success: %v", err)
		}
	}
	throttled(t, fail())
}

func TestGuardSuccessKeepsAddressCount(t *testing.T) {
	ctx := context.Background()
	f := newGuardFixture(t, GuardConfig{MaxFailures: 3})
	hash := knownHash(t)
	for i := range 2 {
		if err := f.g.Check(ctx, fmt.Sprintf("user%d", i), "10.0.0.1", "", false, "x"); !errors.Is(err, ErrBadPassword) {
			t.Fatal(err)
		}
	}
	if err := f.g.Check(ctx, "ada", "10.0.0.1", hash, true, "right"); err != nil {
		t.Fatal(err)
	}
	if err := f.g.Check(ctx, "user9", "10.0.0.1", "", false, "x"); !errors.Is(err, ErrBadPassword) {
		t.Fatal(err)
	}
	throttled(t, f.g.Check(ctx, "user10", "10.0.0.1", "", false, "x"))
}

func TestGuardWindowExpires(t *testing.T) {
	ctx := context.Background()
	f := newGuardFixture(t, GuardConfig{MaxFailures: 2, Window: time.Minute})
	hash := knownHash(t)
	for range 2 {
		if err := f.g.Check(ctx, "ada", "10.0.0.1", hash, true, "wrong"); !errors.Is(err, ErrBadPassword) {
			t.Fatal(err)
		}
	}
	f.clock.Advance(40 * time.Second)
	te := throttled(t, f.g.Check(ctx, "ada", "10.0.0.1", hash, true, "right"))
	if te.RetryAfter != 20*time.Second {
		t.Fatalf("RetryAfter = %v, want 20s", te.RetryAfter)
	}
	f.clock.Advance(20 * time.Second)
	before := f.compares.Load()
	if err := f.g.Check(ctx, "ada", "10.0.0.1", hash, true, "right"); err != nil {
		t.Fatalf("refused after the window: %v", err)
	}
	if f.compares.Load() != before+1 {
		t.Fatal("no comparison after the window")
	}
}

// A correct cached credential passes while its username is throttled (no lock-out of Basic clients);
// a wrong one is refused and counts against the address, so the cache is no free oracle.
func TestGuardCacheVersusThrottle(t *testing.T) {
	ctx := context.Background()
	f := newGuardFixture(t, GuardConfig{MaxFailures: 3})
	hash := knownHash(t)
	if err := f.g.Check(ctx, "ada", "192.0.2.1", hash, true, "right"); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := f.g.Check(ctx, "ada", fmt.Sprintf("198.51.100.%d", i), hash, true, "wrong"); !errors.Is(err, ErrBadPassword) {
			t.Fatal(err)
		}
	}
	before := f.compares.Load()
	for range 5 {
		if err := f.g.Check(ctx, "ada", "192.0.2.1", hash, true, "right"); err != nil {
			t.Fatalf("cached credential refused while username throttled: %v", err)
		}
	}
	if n := f.compares.Load(); n != before {
		t.Fatalf("%d comparisons for cache hits", n-before)
	}
	// The attacker at 203.0.113.7 probes the throttled username: refused, and each probe counts.
	for range 3 {
		throttled(t, f.g.Check(ctx, "ada", "203.0.113.7", hash, true, "guess"))
	}
	throttled(t, f.g.Check(ctx, "ada", "203.0.113.7", hash, true, "right")) // address now throttled
	if n := f.compares.Load(); n != before {
		t.Fatalf("%d comparisons while throttled", n-before)
	}
	// An uncached correct password is refused while the username is throttled.
	f.g.cache = newCheckCache(time.Minute, 10)
	throttled(t, f.g.Check(ctx, "ada", "192.0.2.1", hash, true, "right"))
}

func TestGuardBoundsConcurrentHashing(t *testing.T) {
	f := newGuardFixture(t, GuardConfig{MaxConcurrentHashes: 1, QueueWait: time.Millisecond})
	entered, release := make(chan struct{}), make(chan struct{})
	f.g.compare = func(hash, pw string) error {
		f.compares.Add(1)
		entered <- struct{}{}
		<-release
		return ErrBadPassword
	}
	first := make(chan error)
	go func() { first <- f.g.Check(context.Background(), "ada", "10.0.0.1", "h", true, "pw") }()
	<-entered
	if err := f.g.Check(context.Background(), "grace", "10.0.0.2", "h", true, "pw"); !errors.Is(err, ErrBusy) {
		t.Fatalf("err = %v, want ErrBusy", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.g.Check(ctx, "grace", "10.0.0.2", "h", true, "pw"); !errors.Is(err, ErrBusy) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want ErrBusy and context.Canceled", err)
	}
	close(release)
	if err := <-first; !errors.Is(err, ErrBadPassword) {
		t.Fatalf("first: %v", err)
	}
	if n := f.compares.Load(); n != 1 {
		t.Fatalf("%d comparisons, want 1", n)
	}
	// The slot is free again.
	f.g.compare = func(string, string) error { f.compares.Add(1); return nil }
	if err := f.g.Check(context.Background(), "grace", "10.0.0.2", "h", true, "pw"); err != nil {
		t.Fatalf("slot not released: %v", err)
	}
}

// Parallel requests with the same good credential pay for one comparison: each re-reads the cache
// once it has a slot.
func TestGuardBurstOfOneCredentialHashesOnce(t *testing.T) {
	f := newGuardFixture(t, GuardConfig{MaxConcurrentHashes: 1, QueueWait: time.Minute})
	hash := knownHash(t)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() { errs <- f.g.Check(context.Background(), "ada", "10.0.0.1", hash, true, "right") })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := f.compares.Load(); n != 1 {
		t.Fatalf("%d comparisons, want 1", n)
	}
}

// Parallel wrong guesses get at most MaxConcurrentHashes past the limit: each re-reads the counts once
// it has a slot.
func TestGuardBurstOfGuessesStopsAtLimit(t *testing.T) {
	f := newGuardFixture(t, GuardConfig{MaxFailures: 3, MaxConcurrentHashes: 1, QueueWait: time.Minute})
	hash := knownHash(t)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() { f.g.Check(context.Background(), "ada", fmt.Sprintf("10.0.0.%d", i), hash, true, "wrong") })
	}
	wg.Wait()
	if n := f.compares.Load(); n != 3 {
		t.Fatalf("%d comparisons, want 3", n)
	}
}

func TestGuardTrackedKeysCap(t *testing.T) {
	ctx := context.Background()
	const max = 16
	f := newGuardFixture(t, GuardConfig{MaxFailures: 2, MaxTrackedKeys: max})
	f.g.compare = func(string, string) error { return ErrBadPassword } // bcrypt adds nothing here
	// ada is locked out first; then a flood of distinct usernames, no addresses (so only logins count).
	for range 2 {
		f.g.Check(ctx, "ada", "", "", false, "x")
	}
	for i := range 5 * max {
		f.g.Check(ctx, fmt.Sprintf("flood%d", i), "", "", false, "x")
		if n := len(f.g.throttle.m); n > max {
			t.Fatalf("%d tracked keys, cap %d", n, max)
		}
	}
	throttled(t, f.g.Check(ctx, "ada", "", "", false, "x")) // an active lock-out outlives the flood

	// Expired entries go before live ones, even live ones not yet at the limit.
	f = newGuardFixture(t, GuardConfig{MaxFailures: 2, MaxTrackedKeys: max})
	f.g.compare = func(string, string) error { return ErrBadPassword }
	for i := range max / 2 {
		for range 2 {
			f.g.Check(ctx, fmt.Sprintf("old%d", i), "", "", false, "x")
		}
	}
	f.clock.Advance(time.Minute)
	for i := range max / 2 {
		f.g.Check(ctx, fmt.Sprintf("fresh%d", i), "", "", false, "x")
	}
	f.g.Check(ctx, "trigger", "", "", false, "x")
	for i := range max / 2 {
		if _, ok := f.g.throttle.m[loginKey(fmt.Sprintf("fresh%d", i))]; !ok {
			t.Fatalf("live entry fresh%d evicted while expired ones remained", i)
		}
	}
	if n := len(f.g.throttle.m); n > max {
		t.Fatalf("%d tracked keys, cap %d", n, max)
	}
}

func TestThrottledErrorSeconds(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want int
	}{{0, 1}, {time.Millisecond, 1}, {time.Second, 1}, {1500 * time.Millisecond, 2}, {time.Minute, 60}} {
		if got := (&ThrottledError{RetryAfter: tc.d}).Seconds(); got != tc.want {
			t.Errorf("Seconds(%v) = %d, want %d", tc.d, got, tc.want)
		}
	}
}
