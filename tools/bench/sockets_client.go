//go:build linux

package main

import (
	"bytes"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// The sockets part's client process. The two processes share this machine's cores, so every cycle the
// instrument spends is one the server under test does not get: the client is a minimal WebSocket reader on
// raw non-blocking sockets and epoll (one read per ready socket, no goroutine per connection, no runtime
// poller), which reads the same bytes off the wire as any client would. It opens n CRM connections
// (handshake and authRequest with benchCrmID(i), blocking), prints a line once they are all open, then
// reads socketsBursts messages on each and prints a line per burst with the latencies from the send time
// in each message's uniqueId to the read that brought it in.

const (
	wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11" // RFC 6455 §1.3
	// socketsReaders is how many threads read (an epoll instance each). One keeps up with a burst and
	// leaves the server the other core (one run each: the full server's p99 was 74 ms with one, 90 ms with two).
	socketsReaders = 1
)

// clientConn is one connection's state, owned by the reader its socket is registered with.
type clientConn struct {
	fd      int
	i       int    // its CRM id's number
	burst   int    // the messages it has read
	pending []byte // a frame's start that has not fully arrived yet
}

func socketsClient(args []string) int {
	fs := flag.NewFlagSet("bench -child sockets-client", flag.ContinueOnError)
	wsURL := fs.String("url", "", "the server's /accolades URL")
	n := fs.Int("rows", socketsConns, "connections")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if _, err := raiseNoFile(); err != nil {
		fmt.Fprintln(os.Stderr, "sockets-client:", err)
		return 1
	}
	u, err := url.Parse(*wsURL)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sockets-client:", err)
		return 2
	}
	addr, err := net.ResolveTCPAddr("tcp4", u.Host)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sockets-client:", err)
		return 2
	}
	c := &clientRun{n: *n, addr: addr, host: u.Host, path: u.Path}
	for b := range socketsBursts {
		c.done[b], c.lat[b] = make(chan struct{}), make([]time.Duration, *n)
	}
	eps := make([]int, socketsReaders)
	for r := range eps {
		if eps[r], err = unix.EpollCreate1(unix.EPOLL_CLOEXEC); err != nil {
			fmt.Fprintln(os.Stderr, "sockets-client:", err)
			return 1
		}
	}

	start := time.Now()
	var (
		next    atomic.Int64
		dialers sync.WaitGroup
		conns   = make([][]*clientConn, socketsReaders)
		connsMu sync.Mutex
	)
	for range socketsDialers {
		dialers.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= *n {
					return
				}
				cc, err := c.open(i)
				if err != nil {
					c.fail(fmt.Errorf("connect %d: %w", i, err))
					continue
				}
				connsMu.Lock()
				conns[i%socketsReaders] = append(conns[i%socketsReaders], cc)
				connsMu.Unlock()
			}
		})
	}
	dialers.Wait()
	c.say(socketsClientLine{ConnectSecs: time.Since(start).Seconds()})
	for r, ep := range eps {
		byFd := make(map[int32]*clientConn, len(conns[r]))
		for _, cc := range conns[r] {
			byFd[int32(cc.fd)] = cc
			if err := unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, cc.fd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(cc.fd)}); err != nil {
				c.fail(fmt.Errorf("epoll add: %w", err))
			}
		}
		go c.read(ep, byFd)
	}
	mark := selfCPU() // the client idles between bursts: its CPU from one line to the next is the burst's
	for b := range socketsBursts {
		select {
		case <-c.done[b]:
		case <-time.After(60 * time.Second):
			c.fail(fmt.Errorf("burst %d: timed out with %d of %d received", b+1, c.got[b].Load(), *n))
			c.say(socketsClientLine{})
			return 0
		}
		cpu := selfCPU() - mark
		ls := slices.DeleteFunc(slices.Clone(c.lat[b]), func(d time.Duration) bool { return d == 0 })
		slices.Sort(ls)
		r := socketsBurst{Received: len(ls), ClientCPU: cpu}
		if len(ls) > 0 {
			r.P50, r.P99, r.Max = ls[len(ls)/2], ls[min(len(ls)-1, len(ls)*99/100)], ls[len(ls)-1]
		}
		c.say(socketsClientLine{Burst: &r})
		mark = selfCPU()
	}
	return 0 // the sockets close with the process
}

// clientRun is what the client's dialers and readers share.
type clientRun struct {
	n          int
	addr       *net.TCPAddr
	host, path string

	errMu sync.Mutex
	errs  []string
	got   [socketsBursts]atomic.Int64
	done  [socketsBursts]chan struct{}
	lat   [socketsBursts][]time.Duration // by burst, by connection
}

func (c *clientRun) fail(err error) {
	c.errMu.Lock()
	if len(c.errs) < 10 {
		c.errs = append(c.errs, err.Error())
	}
	c.errMu.Unlock()
}

func (c *clientRun) say(l socketsClientLine) {
	c.errMu.Lock()
	l.Errors, c.errs = c.errs, nil
	c.errMu.Unlock()
	b, _ := json.Marshal(l)
	fmt.Println(string(b))
}

// open connects connection i with blocking calls (upgrade, authRequest, authSucces) and answers it with
// its socket made non-blocking.
func (c *clientRun) open(i int) (_ *clientConn, err error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = unix.Close(fd)
		}
	}()
	sa := &unix.SockaddrInet4{Port: c.addr.Port}
	copy(sa.Addr[:], c.addr.IP.To4())
	if err := unix.Connect(fd, sa); err != nil {
		return nil, err
	}
	var key [16]byte
	_, _ = rand.Read(key[:])
	k := base64.StdEncoding.EncodeToString(key[:])
	req := "GET " + c.path + " HTTP/1.1\r\nHost: " + c.host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + k + "\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if err := writeAll(fd, []byte(req)); err != nil {
		return nil, err
	}
	buf := make([]byte, 0, 1024)
	for !bytes.Contains(buf, []byte("\r\n\r\n")) {
		if buf, err = readMore(fd, buf); err != nil {
			return nil, fmt.Errorf("upgrade: %w", err)
		}
	}
	head, rest, _ := bytes.Cut(buf, []byte("\r\n\r\n"))
	sum := sha1.Sum([]byte(k + wsGUID))
	if !bytes.HasPrefix(head, []byte("HTTP/1.1 101 ")) || !hasHeader(head, "Sec-WebSocket-Accept", base64.StdEncoding.EncodeToString(sum[:])) {
		return nil, fmt.Errorf("upgrade answered %q", head)
	}
	if err := writeAll(fd, maskedText([]byte(`{"type":"authRequest","idCrm":"`+benchCrmID(i)+`"}`))); err != nil {
		return nil, err
	}
	buf = append(buf[:0], rest...)
	for {
		op, payload, used, err := parseFrame(buf)
		if err != nil {
			return nil, err
		}
		if used > 0 {
			if op != 1 || !bytes.Contains(payload, []byte(`"authSucces"`)) {
				return nil, fmt.Errorf("answer %q", payload)
			}
			if used < len(buf) {
				return nil, errors.New("a message before the first burst")
			}
			break
		}
		if buf, err = readMore(fd, buf); err != nil {
			return nil, fmt.Errorf("auth: %w", err)
		}
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		return nil, err
	}
	return &clientConn{fd: fd, i: i}, nil
}

// read is one reader: it waits on its epoll instance and reads each ready socket once.
func (c *clientRun) read(ep int, byFd map[int32]*clientConn) {
	runtime.LockOSThread()
	events := make([]unix.EpollEvent, 512)
	buf := make([]byte, 64<<10)
	for {
		k, err := unix.EpollWait(ep, events, -1)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			c.fail(fmt.Errorf("epoll wait: %w", err))
			return
		}
		for _, ev := range events[:k] {
			cc := byFd[ev.Fd]
			m, err := unix.Read(cc.fd, buf)
			now := time.Now()
			if errors.Is(err, unix.EAGAIN) {
				continue
			}
			if err != nil || m == 0 {
				if cc.burst < socketsBursts {
					c.fail(fmt.Errorf("conn %d: closed by the server (%v)", cc.i, err))
				}
				_ = unix.EpollCtl(ep, unix.EPOLL_CTL_DEL, cc.fd, nil)
				continue
			}
			data := buf[:m]
			if len(cc.pending) > 0 {
				data = append(cc.pending, data...)
				cc.pending = nil
			}
			c.frames(cc, data, now)
		}
	}
}

// frames handles the whole frames in data, read at now, and keeps a partial one for the next read.
func (c *clientRun) frames(cc *clientConn, data []byte, now time.Time) {
	for len(data) > 0 {
		op, payload, used, err := parseFrame(data)
		if err != nil {
			c.fail(fmt.Errorf("conn %d: %w", cc.i, err))
			return
		}
		if used == 0 {
			cc.pending = slices.Clone(data)
			return
		}
		data = data[used:]
		switch op {
		case 9: // ping: answer it, as a client must
			_ = writeAll(cc.fd, maskedFrame(0xA, payload))
		case 8:
			if cc.burst < socketsBursts {
				c.fail(fmt.Errorf("conn %d: close frame %q", cc.i, payload))
			}
		case 1:
			c.message(cc, payload, now)
		}
	}
}

// message records one text message's latency: the server's send time is the uniqueId's first part, found
// without a JSON decoder so that the client's own work stays out of the latency as far as it can.
func (c *clientRun) message(cc *clientConn, msg []byte, now time.Time) {
	if cc.burst >= socketsBursts {
		return
	}
	_, rest, ok := bytes.Cut(msg, []byte(`"uniqueId":"`))
	sent, _, _ := bytes.Cut(rest, []byte("."))
	ns, err := strconv.ParseInt(string(sent), 10, 64)
	if !ok || err != nil || !bytes.Contains(msg, []byte(`"type":"incomingCall"`)) {
		c.fail(fmt.Errorf("conn %d: unexpected %s", cc.i, msg))
		return
	}
	b := cc.burst
	cc.burst++
	c.lat[b][cc.i] = now.Sub(time.Unix(0, ns))
	if c.got[b].Add(1) == int64(c.n) {
		close(c.done[b])
	}
}

// parseFrame reads one unmasked server frame from the start of b: its opcode, payload and length, or
// used 0 when b does not hold all of it yet. Fragmented messages are not expected from the server.
func parseFrame(b []byte) (op byte, payload []byte, used int, err error) {
	if len(b) < 2 {
		return 0, nil, 0, nil
	}
	if b[0]&0x80 == 0 {
		return 0, nil, 0, errors.New("fragmented frame")
	}
	if b[1]&0x80 != 0 {
		return 0, nil, 0, errors.New("masked server frame")
	}
	op, size, h := b[0]&0x0F, int(b[1]&0x7F), 2
	switch size {
	case 126:
		if len(b) < 4 {
			return 0, nil, 0, nil
		}
		size, h = int(binary.BigEndian.Uint16(b[2:])), 4
	case 127:
		if len(b) < 10 {
			return 0, nil, 0, nil
		}
		size, h = int(binary.BigEndian.Uint64(b[2:])), 10
	}
	if len(b) < h+size {
		return 0, nil, 0, nil
	}
	return op, b[h : h+size], h + size, nil
}

func maskedText(p []byte) []byte { return maskedFrame(0x1, p) }

// maskedFrame is a final client frame (masked, as RFC 6455 requires of clients) of a payload under 126 bytes.
func maskedFrame(op byte, p []byte) []byte {
	f := make([]byte, 0, 6+len(p))
	f = append(f, 0x80|op, 0x80|byte(len(p)))
	var mask [4]byte
	_, _ = rand.Read(mask[:])
	f = append(f, mask[:]...)
	for i, x := range p {
		f = append(f, x^mask[i%4])
	}
	return f
}

// hasHeader reports whether the response head has the header name (any case) with exactly value.
func hasHeader(head []byte, name, value string) bool {
	for _, line := range bytes.Split(head, []byte("\r\n")) {
		k, v, ok := bytes.Cut(line, []byte(":"))
		if ok && bytes.EqualFold(k, []byte(name)) && string(bytes.TrimSpace(v)) == value {
			return true
		}
	}
	return false
}

func writeAll(fd int, p []byte) error {
	for len(p) > 0 {
		m, err := unix.Write(fd, p)
		if err != nil {
			return err
		}
		p = p[m:]
	}
	return nil
}

// readMore reads once more into buf's spare room (growing it) on a blocking socket.
func readMore(fd int, buf []byte) ([]byte, error) {
	if cap(buf)-len(buf) < 512 {
		buf = slices.Grow(buf, 4096)
	}
	m, err := unix.Read(fd, buf[len(buf):cap(buf)])
	if err != nil {
		return buf, err
	}
	if m == 0 {
		return buf, errors.New("connection closed")
	}
	return buf[:len(buf)+m], nil
}
