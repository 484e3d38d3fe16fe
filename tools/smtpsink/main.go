// Command smtpsink is a development SMTP server that accepts every message and prints it, so the e-mail
// delivery of Switchboard can be tried without a mail server (README walk-through). Never for production:
// it has no TLS and no authentication, and listens on loopback only.
//
//	go run ./tools/smtpsink -addr 127.0.0.1:2525
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"os"

	"github.com/emersion/go-smtp"
)

type backend struct{}

func (backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{}, nil }

type session struct{ from string }

func (s *session) Mail(from string, _ *smtp.MailOptions) error { s.from = from; return nil }

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	fmt.Printf("--- mail from %s to %s\n", s.from, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	_, err := io.Copy(os.Stdout, r)
	fmt.Println("--- end of message")
	return err
}

func (s *session) Reset()        {}
func (s *session) Logout() error { return nil }

func main() {
	addr := flag.String("addr", "127.0.0.1:2525", "address to listen on (loopback only)")
	flag.Parse()
	srv := smtp.NewServer(backend{})
	srv.Addr, srv.Domain = *addr, "localhost"
	log.Printf("smtpsink: listening on %s; every message is printed here", *addr)
	log.Fatal(srv.ListenAndServe())
}
