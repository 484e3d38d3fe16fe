package gateway

import (
	"context"
	"time"

	"switchboard/models"
)

// SimConfig sets the simulator's behaviour. The zero value delivers everything at once.
type SimConfig struct {
	// Seed picks one repeatable world: the same seed and Ref always give the same outcome and latency.
	Seed int64
	// Latency is added to every attempt, plus a uniform share of Jitter (0 ≤ extra < Jitter).
	// Zero latency and jitter make Send return at once, for benchmarks.
	Latency, Jitter time.Duration
	// FailureRate is the share of attempts that fail, for every service (0..1).
	FailureRate float64
	// NoAnswerRate and BusyRate are the shares of voice and fax calls that go unanswered or find the
	// line busy (0..1). SMS and e-mail are never busy or unanswered.
	NoAnswerRate, BusyRate float64
}

// Simulator is the honest stand-in for every back end: it says it is a simulator in its name and in every
// Result, and it never contacts anything. Outcomes depend only on the seed and the message's Ref, never
// on call order or scheduling, so tests can predict them (Predict) and a rerun reproduces a campaign.
type Simulator struct {
	cfg SimConfig
}

var _ Gateway = (*Simulator)(nil)

// NewSimulator answers a simulator, or an error of kind Invalid when a rate is outside 0..1, the rates of
// a call add up to more than 1, or a duration is negative.
func NewSimulator(cfg SimConfig) (*Simulator, error) {
	for _, r := range []struct {
		name string
		v    float64
	}{{"failure rate", cfg.FailureRate}, {"no-answer rate", cfg.NoAnswerRate}, {"busy rate", cfg.BusyRate}} {
		if !(r.v >= 0 && r.v <= 1) { // also refuses NaN
			return nil, models.Errorf(models.Invalid, "simulator: %s %v is not between 0 and 1", r.name, r.v)
		}
	}
	if sum := cfg.FailureRate + cfg.NoAnswerRate + cfg.BusyRate; sum > 1 {
		return nil, models.Errorf(models.Invalid, "simulator: failure, no-answer and busy rates add up to %v, more than 1", sum)
	}
	if cfg.Latency < 0 || cfg.Jitter < 0 {
		return nil, models.Errorf(models.Invalid, "simulator: latency and jitter must not be negative")
	}
	return &Simulator{cfg: cfg}, nil
}

// Name answers "simulator".
func (s *Simulator) Name() string { return "simulator" }

// Send waits the simulated latency (or until ctx ends, which answers ctx's error) and answers Predict(m).
func (s *Simulator) Send(ctx context.Context, m Message) (Result, error) {
	res := s.Predict(m)
	if res.Duration <= 0 {
		if err := ctx.Err(); err != nil {
			return Result{}, err
		}
		return res, nil
	}
	t := time.NewTimer(res.Duration)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return Result{}, ctx.Err()
	case <-t.C:
		return res, nil
	}
}

// Predict answers what Send will answer for m, without waiting.
func (s *Simulator) Predict(m Message) Result {
	// FNV-1a over the seed's bytes and the Ref, then splitmix64 to spread the hash over both draws.
	x := uint64(14695981039346656037)
	for i := range 8 {
		x = (x ^ (uint64(s.cfg.Seed)>>(8*i))&0xff) * 1099511628211
	}
	for i := range len(m.Ref) {
		x = (x ^ uint64(m.Ref[i])) * 1099511628211
	}
	outcome := unit(splitmix(&x))
	jitter := unit(splitmix(&x))

	res := Result{Status: Delivered, Simulated: true, Duration: s.cfg.Latency + time.Duration(jitter*float64(s.cfg.Jitter))}
	switch {
	case m.Service != Voice && m.Service != Fax && m.Service != SMS && m.Service != Email:
		res.Status, res.Reason = Failed, "simulated: unknown service "+m.Service.String()
	case m.To == "":
		res.Status, res.Reason = Failed, "simulated: no recipient"
	case outcome < s.cfg.FailureRate:
		res.Status, res.Reason = Failed, "simulated failure"
	case m.Service.telephony() && outcome < s.cfg.FailureRate+s.cfg.BusyRate:
		res.Status, res.Reason = Busy, "simulated: line busy"
	case m.Service.telephony() && outcome < s.cfg.FailureRate+s.cfg.BusyRate+s.cfg.NoAnswerRate:
		res.Status, res.Reason = NoAnswer, "simulated: no answer"
	}
	res.Response = simResponses[res.Status]
	return res
}

// simResponses are the Response of each status, built once so a zero-latency Send does not allocate.
var simResponses = map[Status]string{Delivered: "simulated: delivered", Failed: "simulated: failed",
	NoAnswer: "simulated: no_answer", Busy: "simulated: busy"}

// splitmix advances x and answers the next splitmix64 value: a well-mixed stream from one hash.
func splitmix(x *uint64) uint64 {
	*x += 0x9e3779b97f4a7c15
	z := *x
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// unit maps v to [0, 1).
func unit(v uint64) float64 { return float64(v>>11) / (1 << 53) }
