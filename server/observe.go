package server

import (
	"context"
	"errors"
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

// metricsHandler serves the process-wide metrics and this server's own collectors (a dialer's campaign
// progress reads this server's store).
func metricsHandler(own []prometheus.Collector) (http.Handler, error) {
	local := prometheus.NewRegistry()
	for _, c := range own {
		if err := local.Register(c); err != nil {
			return nil, err
		}
	}
	return promhttp.HandlerFor(prometheus.Gatherers{registry, local}, promhttp.HandlerOpts{}), nil
}

// observe writes one structured log line per request and records its duration. It never logs headers or
// bodies, so credentials stay out of the logs.
func observe(log *slog.Logger, m *metrics) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			gone := clientGone(c, err)
			// Nobody reads an answer to a client that left, and the error handler would log it as a failure.
			if err != nil && !gone {
				c.Error(err)
			}
			status := c.Response().Status
			if gone {
				status = statusClientClosed
			}
			api, _ := c.Get(ctxAPI).(string)
			op, _ := c.Get(ctxOperation).(string)
			elapsed := time.Since(start)
			m.requests.WithLabelValues(api, op, strconv.Itoa(status)).Observe(elapsed.Seconds())
			level := slog.LevelInfo
			if status >= 500 {
				level = slog.LevelError
			}
			attrs := []slog.Attr{
				slog.String("request_id", c.Response().Header().Get(echo.HeaderXRequestID)),
				slog.String("method", c.Request().Method),
				slog.String("path", c.Request().URL.Path),
				slog.String("api", api),
				slog.String("operation", op),
				slog.Int("status", status),
				slog.Int64("bytes", c.Response().Size),
				slog.Duration("latency", elapsed),
			}
			if gone {
				attrs = append(attrs, slog.String("outcome", "client closed request"))
			}
			log.LogAttrs(c.Request().Context(), level, "request", attrs...)
			return nil
		}
	}
}

// clientGone: the client went away before its answer was complete (logged as nginx's 499, at info: it is
// not a server fault). net/http cancels the request's context when the connection's read side fails. A
// body that missed its deadline does that too, but then the client is still there and was answered its
// validation error, so that answer is what is logged. A complete answer is logged as it was, even if the
// client left right after it.
func clientGone(c echo.Context, err error) bool {
	if !errors.Is(c.Request().Context().Err(), context.Canceled) || bodyTimedOut(c) {
		return false
	}
	res := c.Response()
	return err != nil || !res.Committed || res.Status >= 500 || res.Status == statusClientClosed
}
