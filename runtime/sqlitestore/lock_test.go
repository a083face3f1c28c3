package sqlitestore_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/connectorgen/connectorgen/runtime/engine"
	"github.com/connectorgen/connectorgen/runtime/engine/enginetest"
	"github.com/connectorgen/connectorgen/runtime/sqlitestore"
)

// TestOneWriterTwoOpens: two handles on one file are two writers; the
// second is refused while the first holds the state.
func TestOneWriterTwoOpens(t *testing.T) {
	enginetest.OneWriterSuite(t, func(t *testing.T) (engine.Store, engine.Store) {
		path := filepath.Join(t.TempDir(), "state.db")
		a, err := sqlitestore.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		b, err := sqlitestore.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		return a, b
	})
}

// TestSecondEngineOnSameFileRefused: an engine running a sync on a SQLite
// file; a second engine (its own handle on the same file) asked to run the
// same sync meanwhile is refused with ErrLocked and applies nothing, so
// the record is created once.
func TestSecondEngineOnSameFileRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s1, err := sqlitestore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s1.Close()
	s2, err := sqlitestore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	src := records(20)
	target := newTgt()
	inRun := make(chan struct{})
	proceed := make(chan struct{})
	target.after = func(n int) {
		if n == 1 {
			close(inRun)
			<-proceed
		}
	}
	e1 := engine.New(s1, engine.WithConcurrency(1), engine.WithClock(clock))
	e2 := engine.New(s2, engine.WithConcurrency(1), engine.WithClock(clock))
	for _, e := range []*engine.Engine{e1, e2} {
		if err := engine.Add(e, newSync(src, target)); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan error, 1)
	go func() { _, err := e1.RunOnce(context.Background(), "recs"); done <- err }()
	<-inRun
	_, err = e2.RunOnce(context.Background(), "recs")
	if !errors.Is(err, engine.ErrLocked) || !strings.Contains(err.Error(), "in use by another engine") {
		t.Fatalf("second engine: %v, want ErrLocked", err)
	}
	close(proceed)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// The first engine is done: the second may run now, and finds nothing
	// to create.
	rep, err := e2.RunOnce(context.Background(), "recs")
	if err != nil || rep.Created != 0 {
		t.Fatalf("second engine after the first: %v %+v", err, rep)
	}
	if target.creates != 20 {
		t.Fatalf("%d creates, want 20", target.creates)
	}
}

const helperEnv = "SQLITESTORE_LOCK_HELPER"

// TestLockHelperProcess is the child process of TestOneWriterTwoProcesses
// (it does nothing in a normal run).
func TestLockHelperProcess(t *testing.T) {
	path := os.Getenv(helperEnv)
	if path == "" {
		t.Skip("helper process of TestOneWriterTwoProcesses only")
	}
	s, err := sqlitestore.Open(path)
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(2)
	}
	if _, err := s.Lock(context.Background(), "recs"); err != nil {
		fmt.Println("refused:", err)
		if errors.Is(err, engine.ErrLocked) {
			os.Exit(3)
		}
		os.Exit(2)
	}
	fmt.Println("locked")
	// Hold the lock until killed or stdin closes.
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	os.Exit(0)
}

func helper(t *testing.T, path string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+path)
	return cmd
}

// TestOneWriterTwoProcesses: a second process on the same SQLite file is
// refused while the first holds it, and gets it as soon as the first is
// killed (SIGKILL leaves no stale lock behind).
func TestOneWriterTwoProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := sqlitestore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	rel, err := s.Lock(context.Background(), "recs")
	if err != nil {
		t.Fatal(err)
	}
	out, err := helper(t, path).CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 || !strings.Contains(string(out), fmt.Sprintf("held by process %d", os.Getpid())) {
		t.Fatalf("second process while locked: %v\n%s", err, out)
	}
	rel()
	s.Close()

	// A child takes the lock; we are refused; the child is killed; we get it.
	cmd := helper(t, path)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	if strings.TrimSpace(line) != "locked" {
		t.Fatalf("child: %q", line)
	}
	s2, err := sqlitestore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if _, err := s2.Lock(context.Background(), "recs"); !errors.Is(err, engine.ErrLocked) {
		t.Fatalf("lock while a child holds it: %v", err)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	var rel2 func()
	for i := 0; ; i++ {
		// The kernel releases the lock once the process is gone; Wait has
		// returned, so the first try normally succeeds.
		rel2, err = s2.Lock(context.Background(), "recs")
		if err == nil || i == 50 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("lock after the holder was killed: %v", err)
	}
	rel2()
}

// TestCloseReleasesLock: closing a handle that holds a sync frees the
// file for another handle.
func TestCloseReleasesLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	a, err := sqlitestore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := sqlitestore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := a.Lock(context.Background(), "recs"); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	rel, err := b.Lock(context.Background(), "recs")
	if err != nil {
		t.Fatalf("lock not released by Close: %v", err)
	}
	rel()
}
