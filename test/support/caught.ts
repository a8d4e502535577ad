/** The error `p` rejects with; throws when it resolves (a test expecting a refusal got none). */
export async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}
