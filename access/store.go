package access

import (
	"context"
	"errors"
)

// Store holds keys, blocks and sealed secrets where every instance can read them: Redis
// (RedisStore) or a JSON file (FileStore). Instances poll Version, which is
// cheap, and Load only when it changes; the admin commands write.
type Store interface {
	// Version changes whenever the data does.
	Version(ctx context.Context) (string, error)
	// Load returns the data and the version it was read at, consistently.
	Load(ctx context.Context) (Data, string, error)
	// AddKey stores k; ErrExists if a key has that name.
	AddKey(ctx context.Context, k Key) error
	// RevokeKey deletes the key called name; ErrNotFound if there is none.
	RevokeKey(ctx context.Context, name string) error
	// AddBlock blocks pattern; ErrExists if it is already blocked.
	AddBlock(ctx context.Context, kind Kind, pattern string) error
	// RemoveBlock lifts a block; ErrNotFound if there is none.
	RemoveBlock(ctx context.Context, kind Kind, pattern string) error
	// SetSecret stores s, replacing a secret of the same name.
	SetSecret(ctx context.Context, s Secret) error
	// RemoveSecret deletes the secret called name; ErrNotFound if there is
	// none.
	RemoveSecret(ctx context.Context, name string) error
}

var (
	ErrExists   = errors.New("already exists")
	ErrNotFound = errors.New("not found")
)
