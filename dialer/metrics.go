package dialer

import (
	"context"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"switchboard/models/ictcore"
)

// progressDesc is each running (or paused) campaign's progress, read from the store at each scrape.
var progressDesc = prometheus.NewDesc("switchboard_campaign_transmissions",
	"Transmissions of each running or paused ICTCore campaign by state: total (prepared), pending (not released), released, completed, failed.",
	[]string{"campaign_id", "status", "state"}, nil)

// collectMax bounds the campaigns one scrape reports (the newest first), so /metrics stays small.
const collectMax = 500

type progressCollector struct{ s *Service }

// Collector answers the dialer's metrics for /metrics.
func (s *Service) Collector() prometheus.Collector { return progressCollector{s} }

func (c progressCollector) Describe(ch chan<- *prometheus.Desc) { ch <- progressDesc }

func (c progressCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	cs, err := ictcore.ActiveCampaigns(ctx, c.s.db, collectMax)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(progressDesc, err)
		return
	}
	for _, cp := range cs {
		id := strconv.FormatInt(cp.ID, 10)
		for _, v := range []struct {
			state string
			n     int64
		}{{"total", cp.ContactTotal}, {"pending", cp.ContactTotal - cp.ContactDone}, {"released", cp.ContactDone},
			{"completed", cp.ContactEnded - cp.ContactFailed}, {"failed", cp.ContactFailed}} {
			ch <- prometheus.MustNewConstMetric(progressDesc, prometheus.GaugeValue, float64(v.n), id, cp.Status, v.state)
		}
	}
}
