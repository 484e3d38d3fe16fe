package coalesce

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"
)

// TestBatches: calls that arrive while a batch runs form the next one, each answered with its own
// answer; a batch never exceeds max.
func TestBatches(t *testing.T) {
	release := make(chan struct{})
	var mu sync.Mutex
	var sizes []int
	b := New(3, func(_ context.Context, qs []int) ([]int, error) {
		mu.Lock()
		sizes = append(sizes, len(qs))
		first := len(sizes) == 1
		mu.Unlock()
		if first {
			<-release // hold the first batch while the others queue up
		}
		out := make([]int, len(qs))
		for i, q := range qs {
			out[i] = q * 10
		}
		return out, nil
	})
	var wg sync.WaitGroup
	results := make([]int, 8)
	call := func(i int) {
		a, err := b.Do(context.Background(), i)
		if err != nil {
			t.Error(err)
		}
		results[i] = a
	}
	wg.Go(func() { call(0) })
	for { // the first call's batch is running
		mu.Lock()
		n := len(sizes)
		mu.Unlock()
		if n == 1 {
			break
		}
		runtime.Gosched()
	}
	for i := 1; i < 8; i++ {
		wg.Go(func() { call(i) })
	}
	for { // all seven wait
		b.mu.Lock()
		n := len(b.waiting)
		b.mu.Unlock()
		if n == 7 {
			break
		}
		runtime.Gosched()
	}
	close(release)
	wg.Wait()
	for i, a := range results {
		if a != i*10 {
			t.Errorf("call %d answered %d, want %d", i, a, i*10)
		}
	}
	if want := []int{1, 3, 3, 1}; len(sizes) != len(want) || sizes[0] != 1 || sizes[1] != 3 || sizes[2] != 3 || sizes[3] != 1 {
		t.Errorf("batch sizes %v, want %v", sizes, want)
	}
}

// TestErrorsAndCancel: a batch's error answers each of its calls; a call whose context ended before its
// batch started is not run; a panicking batch answers an error and the next batch still runs.
func TestErrorsAndCancel(t *testing.T) {
	boom := errors.New("boom")
	var ran [][]string
	b := New(10, func(_ context.Context, qs []string) ([]string, error) {
		ran = append(ran, qs)
		switch qs[0] {
		case "fail":
			return nil, boom
		case "panic":
			panic("bad batch")
		case "short":
			return nil, nil
		}
		return qs, nil
	})
	if _, err := b.Do(context.Background(), "fail"); !errors.Is(err, boom) {
		t.Errorf("failing batch: %v", err)
	}
	if _, err := b.Do(context.Background(), "panic"); err == nil {
		t.Error("panicking batch answered no error")
	}
	if _, err := b.Do(context.Background(), "short"); err == nil {
		t.Error("a batch answering too few answered no error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := b.Do(ctx, "canceled"); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled call: %v", err)
	}
	if a, err := b.Do(context.Background(), "ok"); err != nil || a != "ok" {
		t.Errorf("after: %q %v", a, err)
	}
	for _, qs := range ran {
		if qs[0] == "canceled" {
			t.Error("a call canceled before its batch ran")
		}
	}
}

// TestLinger: after a batch of several calls, a batch that would hold fewer waits (once) for more to
// join; after a batch of one it does not wait, so an idle caller runs at once.
func TestLinger(t *testing.T) {
	held := make(chan chan struct{}, 3) // each batch hands its release to the test and waits for it
	var mu sync.Mutex
	var sizes []int
	b := New(10, func(_ context.Context, qs []int) ([]int, error) {
		mu.Lock()
		sizes = append(sizes, len(qs))
		mu.Unlock()
		release := make(chan struct{})
		held <- release
		<-release
		return make([]int, len(qs)), nil
	}).Linger(time.Second)
	var wg sync.WaitGroup
	waiting := func(n int) { // until n calls wait
		for {
			b.mu.Lock()
			w := len(b.waiting)
			b.mu.Unlock()
			if w == n {
				return
			}
			runtime.Gosched()
		}
	}
	call := func() { wg.Go(func() { b.Do(context.Background(), 0) }) }
	sleeps := 0
	b.sleep = func(time.Duration) { // while the batch lingers, two more callers come back
		sleeps++
		call()
		call()
		waiting(3)
	}
	call()
	r1 := <-held // batch 1: one call
	call()
	call()
	call()
	waiting(3)
	close(r1)
	r2 := <-held // batch 2: three calls, without lingering (the batch before held one)
	call()
	waiting(1)
	close(r2)
	close(<-held) // batch 3: lingered, so the one waiting call and the two that came back
	wg.Wait()
	if len(sizes) != 3 || sizes[0] != 1 || sizes[1] != 3 || sizes[2] != 3 || sleeps != 1 {
		t.Fatalf("batch sizes %v after %d lingers, want [1 3 3] after 1", sizes, sleeps)
	}
}
