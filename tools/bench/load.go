package main

import (
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

type loadStats struct {
	Requests int
	RPS      float64
	P50, P99 time.Duration
}

// loader drives one URL with a fixed number of keep-alive workers and keeps every measured latency.
// Both handlers of a comparison use their own loader built the same way.
type loader struct {
	url, token string
	header     http.Header // sent with every request besides Authorization (Collect!'s x-collect-database)
	workers    int
	client     *http.Client
	lat        []time.Duration
	busy       time.Duration
}

func newLoader(url, token string, workers int) *loader {
	tr := &http.Transport{MaxIdleConns: workers, MaxIdleConnsPerHost: workers, DisableCompression: true}
	return &loader{url: url, token: token, workers: workers, client: &http.Client{Transport: tr}}
}

func (l *loader) close() { l.client.CloseIdleConnections() }

// compare warms both loaders up, then measures them in alternating rounds, so that drift on a shared
// machine (other tenants, Postgres checkpoints, GC of the setup) falls on both figures alike.
func compare(a, b *loader, warmup, n, rounds int) (loadStats, loadStats, error) {
	for _, l := range []*loader{a, b} {
		if err := l.burst(warmup, false); err != nil {
			return loadStats{}, loadStats{}, err
		}
	}
	for r := range rounds {
		m := n / rounds
		if r == rounds-1 {
			m = n - m*(rounds-1)
		}
		for _, l := range []*loader{a, b} {
			runtime.GC() // each round starts without the previous one's garbage
			start := time.Now()
			if err := l.burst(m, true); err != nil {
				return loadStats{}, loadStats{}, err
			}
			l.busy += time.Since(start)
		}
	}
	return a.stats(), b.stats(), nil
}

func (l *loader) stats() loadStats {
	lat := slices.Clone(l.lat)
	slices.Sort(lat)
	n := len(lat)
	return loadStats{Requests: n, RPS: float64(n) / l.busy.Seconds(), P50: lat[n/2], P99: lat[n*99/100]}
}

// burst sends n requests from the workers, appending their latencies when record is set.
func (l *loader) burst(n int, record bool) error {
	var (
		next   atomic.Int64
		failed atomic.Bool
		once   sync.Once
		first  error
		wg     sync.WaitGroup
	)
	lat := make([]time.Duration, n)
	for range l.workers {
		wg.Go(func() {
			for !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				t0 := time.Now()
				if err := l.get(); err != nil {
					once.Do(func() { first = err })
					failed.Store(true)
					return
				}
				lat[i] = time.Since(t0)
			}
		})
	}
	wg.Wait()
	if record && first == nil {
		l.lat = append(l.lat, lat...)
	}
	return first
}

func (l *loader) get() error {
	req, err := http.NewRequest(http.MethodGet, l.url, nil)
	if err != nil {
		return err
	}
	for k, v := range l.header {
		req.Header[k] = v
	}
	req.Header.Set("Authorization", "Bearer "+l.token)
	resp, err := l.client.Do(req)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", l.url, resp.Status)
	}
	return nil
}

// burstFor keeps the workers sending for d and answers how many requests completed.
func (l *loader) burstFor(d time.Duration) (int, error) {
	var (
		done   atomic.Int64
		failed atomic.Bool
		once   sync.Once
		first  error
		wg     sync.WaitGroup
	)
	deadline := time.Now().Add(d)
	for range l.workers {
		wg.Go(func() {
			for !failed.Load() && time.Now().Before(deadline) {
				if err := l.get(); err != nil {
					once.Do(func() { first = err })
					failed.Store(true)
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	return int(done.Load()), first
}
