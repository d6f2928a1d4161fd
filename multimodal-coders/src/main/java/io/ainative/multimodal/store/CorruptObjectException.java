package io.ainative.multimodal.store;

/** The stored bytes do not match the size or SHA-256 in the reference. */
public class CorruptObjectException extends ObjectStoreException {
  private static final long serialVersionUID = 1L;

  public CorruptObjectException(String message) {
    super(message);
  }
}
