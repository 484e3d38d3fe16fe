package models

import (
	"context"
	"testing"
	"time"
)

// TestWriteGateIsFIFO: writers waiting for the gate get it in the order they came, which is what keeps a
// create from starving behind an import's batches; a canceled wait gives up without taking it.
func TestWriteGateIsFIFO(t *testing.T) {
	t.Parallel()
	g := &writeGate{}
	if err := g.acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	order := make(chan int, 5)
	for i := range 5 {
		go func() {
			if err := g.acquire(context.Background()); err != nil {
				t.Error(err)
				return
			}
			order <- i
			g.release()
		}()
		// Each waiter is queued before the next starts.
		for g.waiting() < i+1 {
			time.Sleep(time.Millisecond)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := g.acquire(ctx); err == nil {
		t.Fatal("a canceled wait took the gate")
	}
	g.release()
	for want := range 5 {
		if got := <-order; got != want {
			t.Fatalf("waiter %d got the gate in turn %d", got, want)
		}
	}
}
