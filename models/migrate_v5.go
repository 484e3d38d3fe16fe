package models

import "gorm.io/gorm"

// Step 5: ICTCore's four message kinds. Each row belongs to a user (user_id, indexed: a user who is not an
// admin lists only its own). A message with a file (document, recording, a template's attachment) keeps
// the file in the blob store under a key made of its table and id; media_type is the Content-Type it was
// uploaded with (answered on download), media_size its size (0: no file yet).

type textV5 struct {
	ID          int64  `gorm:"primaryKey;column:text_id"`
	Name        string `gorm:"size:128;not null"`
	Data        string `gorm:"size:2000;not null"`
	Type        string `gorm:"size:16;not null;default:'UTF-8'"`
	Description string `gorm:"size:255;not null;default:''"`
	Length      int64  `gorm:"not null;default:0"`
	Class       int    `gorm:"not null;default:1"`
	Encoding    int    `gorm:"not null;default:0"`
	UserID      int64  `gorm:"not null;index"`
	CreatedAt   int64  `gorm:"not null"`
	UpdatedAt   int64  `gorm:"not null"`
}

func (textV5) TableName() string { return "texts" }

type templateV5 struct {
	ID          int64  `gorm:"primaryKey;column:template_id"`
	Name        string `gorm:"size:128;not null"`
	Description string `gorm:"size:255;not null;default:''"`
	Subject     string `gorm:"size:255;not null;default:''"`
	Body        string `gorm:"not null;default:''"`
	BodyAlt     string `gorm:"not null;default:''"`
	Type        string `gorm:"size:8;not null;default:''"`
	MediaType   string `gorm:"size:128;not null;default:''"`
	MediaSize   int64  `gorm:"not null;default:0"`
	UserID      int64  `gorm:"not null;index"`
	CreatedAt   int64  `gorm:"not null"`
	UpdatedAt   int64  `gorm:"not null"`
}

func (templateV5) TableName() string { return "templates" }

type documentV5 struct {
	ID          int64  `gorm:"primaryKey;column:document_id"`
	Name        string `gorm:"size:128;not null"`
	Description string `gorm:"size:255;not null;default:''"`
	Type        string `gorm:"size:8;not null;default:''"`
	Pages       int64  `gorm:"not null;default:0"`
	SizeX       int64  `gorm:"not null;default:0"`
	SizeY       int64  `gorm:"not null;default:0"`
	Quality     string `gorm:"size:16;not null;default:'standard'"`
	ResolutionX int64  `gorm:"not null;default:0"`
	ResolutionY int64  `gorm:"not null;default:0"`
	MediaType   string `gorm:"size:128;not null;default:''"`
	MediaSize   int64  `gorm:"not null;default:0"`
	UserID      int64  `gorm:"not null;index"`
	CreatedAt   int64  `gorm:"not null"`
	UpdatedAt   int64  `gorm:"not null"`
}

func (documentV5) TableName() string { return "documents" }

type recordingV5 struct {
	ID          int64  `gorm:"primaryKey;column:recording_id"`
	Name        string `gorm:"size:128;not null"`
	Description string `gorm:"size:255;not null;default:''"`
	Type        string `gorm:"size:8;not null;default:''"`
	Length      int64  `gorm:"not null;default:0"`
	Codec       string `gorm:"size:32;not null;default:''"`
	Channel     int64  `gorm:"not null;default:0"`
	Sample      int64  `gorm:"not null;default:0"`
	Bitrate     int64  `gorm:"not null;default:0"`
	MediaType   string `gorm:"size:128;not null;default:''"`
	MediaSize   int64  `gorm:"not null;default:0"`
	UserID      int64  `gorm:"not null;index"`
	CreatedAt   int64  `gorm:"not null"`
	UpdatedAt   int64  `gorm:"not null"`
}

func (recordingV5) TableName() string { return "recordings" }

func migrateV5(tx *gorm.DB) error {
	return tx.Migrator().CreateTable(&textV5{}, &templateV5{}, &documentV5{}, &recordingV5{})
}
