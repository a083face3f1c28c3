//go:build unix

package sqlitestore

import (
	"errors"
	"os"
	"syscall"
)

var errWouldBlock = errors.New("lock held elsewhere")

// lockFile takes an exclusive flock without waiting. flock locks belong to
// the open file description, so two handles in one process conflict too.
func lockFile(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EWOULDBLOCK):
			return errWouldBlock
		}
		return err
	}
}

func unlockFile(f *os.File) error { return syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }
