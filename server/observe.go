package server

import (
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

type metrics struct {
	requests *prometheus.HistogramVec
}

var registry = prometheus.NewRegistry()

var sharedMetrics = func() *metrics {
	m := &metrics{requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "switchboard_http_request_duration_seconds",
		Help:    "HTTP requests by API, operation and status.",
		Buckets: prometheus.DefBuckets,
	}, []string{"api", "operation", "status"})}
	registry.MustRegister(m.requests, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}()

// newMetrics answers the process-wide collectors (one registry, however many servers a test builds).
func newMetrics() *metrics { return sharedMetrics }

func metricsHandler() http.Handler { return promhttp.HandlerFor(registry, promhttp.HandlerOpts{}) }

// observe writes one structured log line per request and records its duration. It never logs headers or
// bodies, so credentials stay out of the logs.
func observe(log *slog.Logger, m *metrics) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				c.Error(err)
			}
			status := c.Response().Status
			api, _ := c.Get(ctxAPI).(string)
			op, _ := c.Get(ctxOperation).(string)
			elapsed := time.Since(start)
			m.requests.WithLabelValues(api, op, strconv.Itoa(status)).Observe(elapsed.Seconds())
			level := slog.LevelInfo
			if status >= 500 {
				level = slog.LevelError
			}
			log.LogAttrs(c.Request().Context(), level, "request",
				slog.String("request_id", c.Response().Header().Get(echo.HeaderXRequestID)),
				slog.String("method", c.Request().Method),
				slog.String("path", c.Request().URL.Path),
				slog.String("api", api),
				slog.String("operation", op),
				slog.Int("status", status),
				slog.Int64("bytes", c.Response().Size),
				slog.Duration("latency", elapsed),
			)
			return nil
		}
	}
}
