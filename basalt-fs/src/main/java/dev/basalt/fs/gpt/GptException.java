package dev.basalt.fs.gpt;

import java.io.IOException;

/** A disk whose partition table cannot be read: no GPT, bad CRCs, impossible fields. */
public class GptException extends IOException {
  public GptException(String message) { super(message); }
}
