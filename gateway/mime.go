package gateway

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"
)

// checkAttachment refuses, before anything is sent, an attachment that could never be written.
func checkAttachment(a Attachment) error {
	if a.Open == nil {
		return fmt.Errorf("attachment %q has nothing to open", a.Name)
	}
	if a.ContentType != "" {
		if _, _, err := mime.ParseMediaType(a.ContentType); err != nil {
			return fmt.Errorf("attachment %q: content type %q: %v", a.Name, a.ContentType, err)
		}
	}
	return nil
}

// writeMessage writes m as an RFC 5322 message with 7-bit MIME parts: a quoted-printable UTF-8 text
// body, and with attachments a multipart/mixed whose parts are base64 streamed from Attachment.Open, so
// memory stays flat whatever the files' size.
func writeMessage(ctx context.Context, w io.Writer, from, to *mail.Address, m Message, now time.Time) error {
	var id [16]byte
	_, _ = rand.Read(id[:]) // crypto/rand.Read never fails (Go 1.24+)
	domain := "switchboard.invalid"
	if at := strings.LastIndexByte(from.Address, '@'); at >= 0 {
		domain = from.Address[at+1:]
	}
	var h strings.Builder
	fmt.Fprintf(&h, "From: %s\r\nTo: %s\r\n", from, to)
	if m.Subject != "" {
		fmt.Fprintf(&h, "Subject: %s\r\n", encodeHeader(m.Subject))
	}
	fmt.Fprintf(&h, "Date: %s\r\nMessage-ID: <%s@%s>\r\nMIME-Version: 1.0\r\n",
		now.Format(time.RFC1123Z), hex.EncodeToString(id[:]), domain)

	const textType = "text/plain; charset=utf-8"
	if len(m.Attachments) == 0 {
		fmt.Fprintf(&h, "Content-Type: %s\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n", textType)
		if _, err := io.WriteString(w, h.String()); err != nil {
			return err
		}
		return writeQP(w, m.Body)
	}

	mw := multipart.NewWriter(w)
	fmt.Fprintf(&h, "Content-Type: %s\r\n\r\n", mime.FormatMediaType("multipart/mixed", map[string]string{"boundary": mw.Boundary()}))
	if _, err := io.WriteString(w, h.String()); err != nil {
		return err
	}
	part, err := mw.CreatePart(textproto.MIMEHeader{
		"Content-Type":              {textType},
		"Content-Transfer-Encoding": {"quoted-printable"},
	})
	if err != nil {
		return err
	}
	if err := writeQP(part, m.Body); err != nil {
		return err
	}
	for _, a := range m.Attachments {
		if err := writeAttachment(ctx, mw, a); err != nil {
			return err
		}
	}
	return mw.Close()
}

// writeAttachment streams one attachment as a base64 part.
func writeAttachment(ctx context.Context, mw *multipart.Writer, a Attachment) error {
	ct := a.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	mt, params, _ := mime.ParseMediaType(ct) // checked by checkAttachment
	disposition := "attachment"
	if a.Name != "" {
		params["name"] = a.Name // what older mail readers look at
		disposition = mime.FormatMediaType("attachment", map[string]string{"filename": a.Name})
	}
	part, err := mw.CreatePart(textproto.MIMEHeader{
		"Content-Type":              {mime.FormatMediaType(mt, params)},
		"Content-Disposition":       {disposition},
		"Content-Transfer-Encoding": {"base64"},
	})
	if err != nil {
		return err
	}
	rc, err := a.Open(ctx)
	if err != nil {
		return fmt.Errorf("attachment %q: %w", a.Name, err)
	}
	enc := base64.NewEncoder(base64.StdEncoding, &lineWrapper{w: part})
	_, err = io.Copy(enc, rc)
	err = errors.Join(err, rc.Close(), enc.Close())
	if err != nil {
		return fmt.Errorf("attachment %q: %w", a.Name, err)
	}
	return nil
}

// writeQP writes text as quoted-printable, which keeps lines short and the transfer 7-bit.
func writeQP(w io.Writer, text string) error {
	qw := quotedprintable.NewWriter(w)
	if _, err := io.WriteString(qw, text); err != nil {
		return err
	}
	return qw.Close()
}

// encodeHeader answers s as a header value: line breaks become spaces (no header injection), non-ASCII
// text becomes RFC 2047 encoded words, folded between words so no line grows past the limit.
func encodeHeader(s string) string {
	s = strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ").Replace(s)
	return strings.ReplaceAll(mime.QEncoding.Encode("utf-8", s), "?= =?", "?=\r\n =?")
}

// lineWrapper breaks base64 output into 76-character lines, as RFC 2045 requires.
type lineWrapper struct {
	w io.Writer
	n int // characters on the current line
}

func (l *lineWrapper) Write(p []byte) (int, error) {
	const width = 76
	written := 0
	for len(p) > 0 {
		chunk := min(width-l.n, len(p))
		n, err := l.w.Write(p[:chunk])
		written += n
		l.n += n
		if err != nil {
			return written, err
		}
		p = p[chunk:]
		if l.n == width {
			if _, err := io.WriteString(l.w, "\r\n"); err != nil {
				return written, err
			}
			l.n = 0
		}
	}
	return written, nil
}
