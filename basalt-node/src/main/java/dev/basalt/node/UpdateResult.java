package dev.basalt.node;

import dev.basalt.api.Deployment;

/**
 * What an update did.
 *
 * @param outcome what happened
 * @param ref the reference as given
 * @param manifestDigest the pinned digest
 * @param deployment the staged deployment ({@link Outcome#STAGED}), else the one already in place, else null
 * @param layers layers of the image
 * @param layersDownloaded layers fetched now (the others were in the cache)
 * @param bytesDownloaded bytes read from the source now (a resumed blob counts only the rest)
 * @param imageBytes compressed size of all layers
 * @param rootBytes size of the EROFS written into the slot (0 unless staged)
 */
public record UpdateResult(Outcome outcome, String ref, String manifestDigest, Deployment deployment, int layers,
    int layersDownloaded, long bytesDownloaded, long imageBytes, long rootBytes) {

  /** How an update ended. */
  public enum Outcome {
    /** Written into the inactive slot; boots next. */
    STAGED,
    /** The booted deployment already runs this digest: nothing done. */
    UP_TO_DATE,
    /** This digest is already staged: nothing done. */
    ALREADY_STAGED,
    /** {@code --download-only}: the layers are in the cache, no slot was touched. */
    DOWNLOADED
  }
}
