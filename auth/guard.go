package auth

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"time"
)

// ErrBusy means no hashing slot came free in time; callers answer 503 with a Retry-After.
var ErrBusy = errors.New("too many logins in progress, retry shortly")

// ThrottledError refuses a login after too many failures for its username or client address.
// Its text is safe to show to the client.
type ThrottledError struct {
	RetryAfter time.Duration
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("too many failed logins, retry in %d s", e.Seconds())
}

// Seconds answers RetryAfter in whole seconds, rounded up and at least 1: a Retry-After header value.
func (e *ThrottledError) Seconds() int {
	s := int((e.RetryAfter + time.Second - 1) / time.Second)
	return max(s, 1)
}

// GuardConfig tunes a Guard; zero fields take their defaults.
type GuardConfig struct {
	MaxFailures         int           // failed logins allowed per username and per client address in a Window; default 10
	Window              time.Duration // default 1 minute
	MaxConcurrentHashes int           // default runtime.GOMAXPROCS(0)
	QueueWait           time.Duration // how long a login may wait for a hashing slot before ErrBusy; default 2s
	MaxTrackedKeys      int           // usernames and addresses whose failures are remembered; default 100000
	CacheTTL            time.Duration // how long a successful check is remembered; default 1 minute
	CacheSize           int           // successful checks remembered; default 10000
}

// Guard checks passwords for every API's logins: equal work for unknown users, failed-login throttling
// per username and per client address, a cache of recent successes, and a bound on concurrent hashing.
//
// A Check runs in this order, and the order is the policy:
//  1. A client address at its failure limit is refused, before the cache is consulted, so an attacker's
//     address cannot go on testing guesses against cached credentials.
//  2. A cached success (same stored hash and password within CacheTTL) passes even when the username is
//     throttled: otherwise anyone could lock a legitimate HTTP Basic client out by failing 10 times with
//     its username. A hit proves the password, costs no hashing, and leaves the failure counts alone.
//  3. A username at its limit is refused without hashing (a correct but uncached password too, until the
//     window ends). The refusal counts as a failure of the address, so probing the cache of a throttled
//     username is limited per address like any guess.
//  4. Otherwise one bcrypt comparison, against the user's hash or, for an unknown user, a dummy hash of
//     the current HashCost; at most MaxConcurrentHashes run at once. Steps 1-3 are repeated after the
//     wait for a slot, so a burst of parallel guesses gets at most MaxConcurrentHashes past the limit and
//     a burst of the same good credential pays for one comparison.
//
// Unknown users count failures exactly as known ones do, so the throttle does not reveal which exist
// either. Callers should therefore pass the login as the client typed it, not the resolved username.
type Guard struct {
	throttle  throttle
	cache     *checkCache
	slots     chan struct{}
	queueWait time.Duration

	now     func() time.Time            // injectable for tests
	compare func(hash, pw string) error // injectable for tests; CheckPassword

	dummyOnce sync.Once
	dummy     string
}

// NewGuard builds a Guard; share one per server so every API's logins draw on the same limits.
func NewGuard(cfg GuardConfig) *Guard {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&cfg.MaxFailures, 10)
	defDur(&cfg.Window, time.Minute)
	def(&cfg.MaxConcurrentHashes, runtime.GOMAXPROCS(0))
	defDur(&cfg.QueueWait, 2*time.Second)
	def(&cfg.MaxTrackedKeys, 100000)
	defDur(&cfg.CacheTTL, time.Minute)
	def(&cfg.CacheSize, 10000)
	return &Guard{
		throttle: throttle{limit: cfg.MaxFailures, window: cfg.Window, max: cfg.MaxTrackedKeys,
			m: make(map[throttleKey]failures)},
		cache:     newCheckCache(cfg.CacheTTL, cfg.CacheSize),
		slots:     make(chan struct{}, cfg.MaxConcurrentHashes),
		queueWait: cfg.QueueWait,
		now:       time.Now,
		compare:   CheckPassword,
	}
}

// Check verifies pw for a login. hash and found come from the caller's user lookup (found false: no such
// user); addr is the client's address ("ip" or "ip:port"; IPv6 counts per /64; "" skips the address
// limit). It answers nil, ErrBadPassword, a *ThrottledError, or an error matching ErrBusy (no hashing
// slot within QueueWait or before ctx ended), and records the failure or success.
func (g *Guard) Check(ctx context.Context, login, addr, hash string, found bool, pw string) error {
	lk, ak := loginKey(login), addrKey(addr)
	known := found && hash != "" // a user without a hash must not answer faster than a wrong password
	if done, err := g.screen(lk, ak, known, hash, pw); done {
		return err
	}
	if err := g.acquire(ctx); err != nil {
		return err
	}
	defer func() { <-g.slots }()
	if done, err := g.screen(lk, ak, known, hash, pw); done {
		return err
	}
	if !known {
		hash = g.dummyHash()
	}
	err := g.compare(hash, pw)
	now := g.now()
	if err != nil || !known {
		g.throttle.fail(lk, now)
		g.throttle.fail(ak, now)
		return ErrBadPassword
	}
	g.throttle.clear(lk)
	g.cache.put(hash, pw)
	return nil
}

// screen applies steps 1-3 of the policy; done reports that Check has its answer without hashing.
func (g *Guard) screen(lk, ak throttleKey, known bool, hash, pw string) (done bool, err error) {
	now := g.now()
	if d := g.throttle.refused(ak, now); d > 0 {
		return true, &ThrottledError{RetryAfter: d}
	}
	if known && g.cache.hit(hash, pw) {
		return true, nil
	}
	if d := g.throttle.refused(lk, now); d > 0 {
		g.throttle.fail(ak, now)
		return true, &ThrottledError{RetryAfter: d}
	}
	return false, nil
}

func (g *Guard) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil { // nobody waits for the answer: spend no hashing on it
		return fmt.Errorf("%w: %w", ErrBusy, err)
	}
	select {
	case g.slots <- struct{}{}:
		return nil
	default:
	}
	t := time.NewTimer(g.queueWait)
	defer t.Stop()
	select {
	case g.slots <- struct{}{}:
		return nil
	case <-t.C:
		return ErrBusy
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", ErrBusy, ctx.Err())
	}
}

// dummyHash is computed on first use, so it takes the HashCost in force then (tests lower it in init).
func (g *Guard) dummyHash() string {
	g.dummyOnce.Do(func() {
		pw, err := RandomSecret(16)
		if err == nil {
			g.dummy, err = HashPassword(pw)
		}
		if err != nil { // only an invalid HashCost gets here, and then no password can be hashed at all
			panic("auth: dummy hash: " + err.Error())
		}
	})
	return g.dummy
}

// throttleKey is a digest, so a huge login string costs no more memory than a short one.
type throttleKey [32]byte

var noKey throttleKey

func loginKey(login string) throttleKey {
	return sha256.Sum256([]byte("login\x00" + strings.ToLower(strings.TrimSpace(login))))
}

// addrKey counts IPv6 clients per /64, since one host commonly holds a whole /64.
func addrKey(addr string) throttleKey {
	if addr == "" {
		return noKey
	}
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		if ap, err2 := netip.ParseAddrPort(addr); err2 == nil {
			ip, err = ap.Addr(), nil
		}
	}
	if err == nil {
		ip = ip.Unmap().WithZone("")
		if ip.Is6() {
			ip = netip.PrefixFrom(ip, 64).Masked().Addr()
		}
		addr = ip.String()
	}
	return sha256.Sum256([]byte("addr\x00" + addr))
}

// throttle counts failures per key in a fixed window that starts at the key's first failure.
type throttle struct {
	mu     sync.Mutex
	limit  int
	window time.Duration
	max    int
	m      map[throttleKey]failures
}

type failures struct {
	n     int
	reset time.Time
}

// refused answers how long k stays refused, or 0 if it may try.
func (t *throttle) refused(k throttleKey, now time.Time) time.Duration {
	if k == noKey {
		return 0
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	f, ok := t.m[k]
	if !ok || f.n < t.limit || !now.Before(f.reset) {
		return 0
	}
	return f.reset.Sub(now)
}

func (t *throttle) fail(k throttleKey, now time.Time) {
	if k == noKey {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	f, ok := t.m[k]
	if !ok && len(t.m) >= t.max {
		t.makeRoom(now)
	}
	if !ok || !now.Before(f.reset) {
		f = failures{reset: now.Add(t.window)}
	}
	f.n++
	t.m[k] = f
}

func (t *throttle) clear(k throttleKey) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.m, k)
}

// makeRoom frees an eighth of the map so the sweep is paid once per many inserts. It drops expired
// entries first, then those not yet refusing anyone, and only then (a flood of distinct keys) any:
// an active lockout is the last thing to forget.
func (t *throttle) makeRoom(now time.Time) {
	keep := t.max - 1 - t.max/8
	for _, drop := range []func(failures) bool{
		func(f failures) bool { return !now.Before(f.reset) },
		func(f failures) bool { return f.n < t.limit },
		func(failures) bool { return true },
	} {
		for k, f := range t.m {
			if len(t.m) <= keep {
				return
			}
			if drop(f) {
				delete(t.m, k)
			}
		}
	}
}
