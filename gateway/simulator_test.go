package gateway

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"switchboard/models"
)

func newSim(t *testing.T, cfg SimConfig) *Simulator {
	t.Helper()
	s, err := NewSimulator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSimulatorDeterministic(t *testing.T) {
	t.Parallel()
	cfg := SimConfig{Seed: 42, FailureRate: 0.2, NoAnswerRate: 0.2, BusyRate: 0.1}
	a, b := newSim(t, cfg), newSim(t, cfg)
	const n = 500
	want := make([]Result, n)
	for i := range n {
		want[i] = a.Predict(Message{Service: Voice, To: "+15550100", Ref: fmt.Sprintf("spool %d", i)})
	}
	// Another simulator with the same seed, sending in reverse order from many goroutines, agrees.
	got := make([]Result, n)
	var wg sync.WaitGroup
	for i := n - 1; i >= 0; i-- {
		wg.Go(func() {
			res, err := b.Send(t.Context(), Message{Service: Voice, To: "+15550100", Ref: fmt.Sprintf("spool %d", i)})
			if err != nil {
				t.Error(err)
			}
			got[i] = res
		})
	}
	wg.Wait()
	for i := range n {
		if got[i] != want[i] {
			t.Fatalf("spool %d: Send %+v, Predict %+v", i, got[i], want[i])
		}
	}

	// Another seed is another world: some outcomes differ.
	other := newSim(t, SimConfig{Seed: 43, FailureRate: 0.2, NoAnswerRate: 0.2, BusyRate: 0.1})
	differ := 0
	for i := range n {
		if other.Predict(Message{Service: Voice, To: "+15550100", Ref: fmt.Sprintf("spool %d", i)}).Status != want[i].Status {
			differ++
		}
	}
	if differ == 0 {
		t.Error("seeds 42 and 43 gave the same outcome for every ref")
	}
}

func TestSimulatorRates(t *testing.T) {
	t.Parallel()
	s := newSim(t, SimConfig{Seed: 7, FailureRate: 0.1, NoAnswerRate: 0.3, BusyRate: 0.2})
	const n = 20000
	count := func(svc Service) map[Status]int {
		c := map[Status]int{}
		for i := range n {
			res := s.Predict(Message{Service: svc, To: "x", Ref: fmt.Sprint(i)})
			if !res.Simulated || res.Response != "simulated: "+string(res.Status) {
				t.Fatalf("%+v does not say it is simulated", res)
			}
			if res.Status != Delivered && res.Reason == "" {
				t.Fatalf("%+v has no reason", res)
			}
			c[res.Status]++
		}
		return c
	}
	near := func(name string, got int, rate float64) {
		t.Helper()
		if want := rate * n; float64(got) < want*0.9 || float64(got) > want*1.1 {
			t.Errorf("%s: %d of %d, want about %.0f", name, got, n, want)
		}
	}
	voice := count(Voice)
	near("voice failed", voice[Failed], 0.1)
	near("voice busy", voice[Busy], 0.2)
	near("voice no answer", voice[NoAnswer], 0.3)
	near("voice delivered", voice[Delivered], 0.4)
	sms := count(SMS)
	near("sms failed", sms[Failed], 0.1)
	near("sms delivered", sms[Delivered], 0.9)
	if sms[Busy]+sms[NoAnswer] != 0 {
		t.Errorf("sms was busy or unanswered: %v", sms)
	}
}

func TestSimulatorRefusesUnsendable(t *testing.T) {
	t.Parallel()
	s := newSim(t, SimConfig{})
	for _, m := range []Message{{Service: SMS, Ref: "1"}, {Service: 3, To: "x", Ref: "1"}} {
		if res := s.Predict(m); res.Status != Failed || !res.Simulated {
			t.Errorf("%+v: got %+v, want a simulated failure", m, res)
		}
	}
	if res := s.Predict(Message{Service: Email, To: "a@example.com"}); res.Status != Delivered {
		t.Errorf("zero config: got %+v, want delivered", res)
	}
	if s.Name() != "simulator" {
		t.Errorf("Name() = %q", s.Name())
	}
}

func TestSimulatorLatency(t *testing.T) {
	t.Parallel()
	s := newSim(t, SimConfig{Seed: 1, Latency: 20 * time.Millisecond, Jitter: 10 * time.Millisecond})
	for i := range 100 {
		d := s.Predict(Message{Service: SMS, To: "x", Ref: fmt.Sprint(i)}).Duration
		if d < 20*time.Millisecond || d >= 30*time.Millisecond {
			t.Fatalf("ref %d: duration %v outside [20ms, 30ms)", i, d)
		}
	}
	res, err := s.Send(t.Context(), Message{Service: SMS, To: "x", Ref: "a"})
	if err != nil || res.Status != Delivered {
		t.Fatalf("Send: %+v, %v", res, err)
	}
}

func TestSimulatorHonoursContext(t *testing.T) {
	t.Parallel()
	// An hour of latency: Send can only return because ctx ends.
	slow := newSim(t, SimConfig{Latency: time.Hour})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := slow.Send(ctx, Message{Service: Voice, To: "x", Ref: "1"})
		done <- err
	}()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Send after cancel: %v, want context.Canceled", err)
	}

	// Zero latency still refuses an ended context.
	fast := newSim(t, SimConfig{})
	if _, err := fast.Send(ctx, Message{Service: SMS, To: "x"}); !errors.Is(err, context.Canceled) {
		t.Errorf("zero latency, ended ctx: %v", err)
	}
}

func TestNewSimulatorInvalid(t *testing.T) {
	t.Parallel()
	for _, cfg := range []SimConfig{
		{FailureRate: -0.1},
		{BusyRate: 1.5},
		{FailureRate: 0.5, NoAnswerRate: 0.4, BusyRate: 0.2},
		{Latency: -time.Second},
	} {
		if _, err := NewSimulator(cfg); models.KindOf(err) != models.Invalid {
			t.Errorf("%+v: err %v, want kind invalid", cfg, err)
		}
	}
}

func BenchmarkSimulatorSend(b *testing.B) {
	s, err := NewSimulator(SimConfig{Seed: 1, FailureRate: 0.1})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	m := Message{Service: SMS, To: "+15550100", Ref: "spool 1"}
	for b.Loop() {
		if _, err := s.Send(ctx, m); err != nil {
			b.Fatal(err)
		}
	}
}
