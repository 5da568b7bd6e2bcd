-- The PostgreSQL schema of YTV2's migration plan (seed 003), verbatim.
-- Ferry applies it to a target that lacks these tables.

-- Main content metadata (replaces current content table structure)
CREATE TABLE content (
    id TEXT PRIMARY KEY,                    -- "yt:<video_id>"
    video_id TEXT NOT NULL UNIQUE,         -- "<video_id>"
    title TEXT NOT NULL,
    channel_name TEXT,
    canonical_url TEXT,
    thumbnail_url TEXT,
    duration_seconds INTEGER,
    indexed_at TIMESTAMPTZ DEFAULT now(),
    updated_at TIMESTAMPTZ DEFAULT now(),

    -- Preserve existing JSON structures Dashboard expects
    analysis_json JSONB,                   -- categories/subcategories, analysis data
    topics_json JSONB,                     -- key_topics, named_entities, etc.

    -- Metadata fields Dashboard currently uses
    language TEXT,
    content_type TEXT,
    complexity_level TEXT,
    has_audio BOOLEAN DEFAULT false,

    -- Constraints for data quality
    CONSTRAINT valid_video_id CHECK (video_id ~ '^[A-Za-z0-9_-]{11}$'),
    CONSTRAINT valid_language CHECK (language ~ '^[a-z]{2}$' OR language IS NULL)
);

-- Renderable summaries (what inline cards actually read from)
CREATE TABLE content_summaries (
    id BIGSERIAL PRIMARY KEY,
    video_id TEXT NOT NULL REFERENCES content(video_id) ON DELETE CASCADE,

    -- Support multiple summary variants and versions
    variant TEXT NOT NULL DEFAULT 'comprehensive',  -- 'clinical', 'patient', 'comprehensive'
    revision INTEGER NOT NULL DEFAULT 1,

    -- Pre-rendered content for frontend
    html TEXT NOT NULL,                     -- Fully formatted HTML for reader
    raw_json JSONB,                         -- Optional: source data for future use

    created_at TIMESTAMPTZ DEFAULT now(),
    updated_at TIMESTAMPTZ DEFAULT now(),

    -- Ensure unique variants per video
    UNIQUE(video_id, variant, revision)
);

-- Performance indexes
CREATE INDEX idx_content_indexed_at ON content(indexed_at DESC);
CREATE INDEX idx_content_channel ON content(channel_name);
CREATE INDEX idx_content_language ON content(language);
CREATE INDEX idx_summaries_video_variant ON content_summaries(video_id, variant);

-- Prefer "latest revision" via index + lateral join (no materialized view)
CREATE INDEX IF NOT EXISTS idx_summaries_vid_var_rev
  ON content_summaries (video_id, variant, revision DESC);

-- Keep updated_at fresh on UPDATEs
CREATE OR REPLACE FUNCTION set_updated_at()
RETURNS TRIGGER AS $$
BEGIN
  NEW.updated_at = now();
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'trg_content_updated_at') THEN
    CREATE TRIGGER trg_content_updated_at
      BEFORE UPDATE ON content
      FOR EACH ROW EXECUTE FUNCTION set_updated_at();
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'trg_summaries_updated_at') THEN
    CREATE TRIGGER trg_summaries_updated_at
      BEFORE UPDATE ON content_summaries
      FOR EACH ROW EXECUTE FUNCTION set_updated_at();
  END IF;
END$$;

-- JSON filter performance for dashboard filters
CREATE INDEX IF NOT EXISTS idx_content_analysis_gin ON content USING GIN (analysis_json);
CREATE INDEX IF NOT EXISTS idx_content_topics_gin   ON content USING GIN (topics_json);
