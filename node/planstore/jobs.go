package planstore

import (
	"context"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Collections of import jobs: the job's state (small, rewritten after each
// batch) apart from its file and validated report (large, written once).
const (
	ImportJobsCollection  = "node_import_jobs"
	ImportFilesCollection = "node_import_files"
)

// Import job states.
const (
	JobQueued  = "queued"
	JobRunning = "running"
	JobDone    = "done"
	JobFailed  = "failed"
)

// ImportJob is the stored state of one import: how far it got, and what it
// wrote so far.
type ImportJob struct {
	ID    string `bson:"_id" json:"id"`
	State string `bson:"state" json:"state"`
	// Total is the number of steps (plan, commitment rows, progress updates
	// to add); Done how many are applied and published.
	Total int `bson:"total" json:"rowsTotal"`
	Done  int `bson:"done" json:"rowsDone"`
	// Counts of what the steps done so far did.
	Created      int `bson:"created" json:"-"`
	Updated      int `bson:"updated" json:"-"`
	Unchanged    int `bson:"unchanged" json:"-"`
	UpdatesAdded int `bson:"updatesAdded" json:"-"`
	// TouchPlans are the plans whose list of commitments grew, republished
	// once at the end.
	TouchPlans []string  `bson:"touchPlans,omitempty" json:"-"`
	Error      string    `bson:"error,omitempty" json:"error,omitempty"`
	Submitted  time.Time `bson:"submitted" json:"submitted"`
	Finished   time.Time `bson:"finished,omitempty" json:"finished,omitzero"`
	// Result is the final report (JSON), set when the job is done.
	Result []byte `bson:"result,omitempty" json:"-"`
}

// ImportFile is what a job applies: the file(s) as uploaded and the report
// of their validation (JSON), from which the job's steps are computed again
// after a restart.
type ImportFile struct {
	ID         string `bson:"_id"`
	Format     string `bson:"format"`
	Data       []byte `bson:"data"`
	Milestones []byte `bson:"milestones,omitempty"`
	Report     []byte `bson:"report"`
}

// NewJobID returns a new sortable id for an import job.
func (s *Store) NewJobID() string { return s.ids.New(s.stamp()) }

// CreateImportJob stores a validated import, its file first: a job record
// exists only once all it needs to run is stored, so a crash in between
// leaves no job (nothing applied) rather than a job without its file.
func (s *Store) CreateImportJob(ctx context.Context, j ImportJob, f ImportFile) error {
	f.ID = j.ID
	db := s.plans.Database()
	if _, err := db.Collection(ImportFilesCollection).InsertOne(ctx, f); err != nil {
		return fmt.Errorf("planstore: store import file: %w", err)
	}
	if _, err := db.Collection(ImportJobsCollection).InsertOne(ctx, j); err != nil {
		return fmt.Errorf("planstore: store import job: %w", err)
	}
	return nil
}

// SaveImportJob records a job's progress.
func (s *Store) SaveImportJob(ctx context.Context, j ImportJob) error {
	_, err := s.plans.Database().Collection(ImportJobsCollection).ReplaceOne(ctx, bson.D{{Key: "_id", Value: j.ID}}, j)
	if err != nil {
		return fmt.Errorf("planstore: save import job %s: %w", j.ID, err)
	}
	return nil
}

// ImportJob returns job id (an _id lookup), or ErrNotFound.
func (s *Store) ImportJob(ctx context.Context, id string) (ImportJob, error) {
	return byID[ImportJob](ctx, s.plans.Database().Collection(ImportJobsCollection), id)
}

// ImportFileOf returns the file of job id, or ErrNotFound.
func (s *Store) ImportFileOf(ctx context.Context, id string) (ImportFile, error) {
	return byID[ImportFile](ctx, s.plans.Database().Collection(ImportFilesCollection), id)
}

// DropImportFile removes a finished job's file (its report stays in the
// job's result).
func (s *Store) DropImportFile(ctx context.Context, id string) error {
	_, err := s.plans.Database().Collection(ImportFilesCollection).DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
	return err
}

// UnfinishedImportJobs returns the jobs that are queued or running, oldest
// first. Read once at start (a scan of a collection of one document per
// import ever made); jobs started later are handed over in memory.
func (s *Store) UnfinishedImportJobs(ctx context.Context) ([]ImportJob, error) {
	cur, err := s.plans.Database().Collection(ImportJobsCollection).Find(ctx,
		bson.D{{Key: "state", Value: bson.D{{Key: "$in", Value: bson.A{JobQueued, JobRunning}}}}},
		options.Find().SetProjection(bson.D{{Key: "result", Value: 0}}))
	if err != nil {
		return nil, fmt.Errorf("planstore: import jobs: %w", err)
	}
	var out []ImportJob
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("planstore: import jobs: %w", err)
	}
	slices.SortFunc(out, func(a, b ImportJob) int {
		if a.ID < b.ID {
			return -1
		}
		if a.ID > b.ID {
			return 1
		}
		return 0
	})
	return out, nil
}
