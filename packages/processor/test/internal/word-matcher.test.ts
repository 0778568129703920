import { describe, expect, it } from 'vitest';
import { WordMatcher } from '../../src/internal/word-matcher.js';
import { DEFAULT_REDACTION_WORD_PAIRS, DEFAULT_REDACTION_WORDS } from '../../src/redaction.js';

const words = new WordMatcher(DEFAULT_REDACTION_WORDS, DEFAULT_REDACTION_WORD_PAIRS);

describe('WordMatcher (default redaction words)', () => {
  it('matches a listed word of a name split at separators, case changes and digits', () => {
    for (const name of [
      'pass', 'PASS', 'user_pass', 'newPass', 'db-pw', 'x.pswd', 'pin', 'card_pin', 'userPIN', 'PINCode', 'pin1', 'v2Pin', 'otp', 'totpValue', 'HOTP',
      'cvv', 'CVV2', 'cardCvc2', 'csc', 'passcode', 'pincode', 'HTTPPass', 'pass word',
      // The words' ordinary senses and flags are masked too (documented).
      'pin_count', 'otp_enabled', 'boarding_pass', 'gpio_pin', 'passThrough',
    ]) expect(words.matches(name), name).toBe(true);
  });

  it('matches a listed pair of adjacent words, and neither word alone', () => {
    for (const name of ['mfa_code', 'mfaCode', 'MFA-CODE', '2fa_code', '2FACode', '2faCode', 'two_factor_code', 'sms.code', 'verificationCode', 'backup_codes', 'recovery__codes', 'oauth_code', 'security_code', 'securityAnswer', 'user_mfa_code_hash']) {
      expect(words.matches(name), name).toBe(true);
    }
    for (const name of ['mfa', 'code', 'codes', 'mfa_enabled', 'status_code', 'country_code', 'zipCode', 'code_mfa', 'mfa_user_code', 'security', 'answer', 'mfacode']) {
      expect(words.matches(name), name).toBe(false);
    }
  });

  it('does not match a listed word inside a longer word', () => {
    for (const name of [
      'passport', 'compass', 'bypass', 'passenger', 'spinner', 'pinned', 'opinion', 'topic', 'shipping', 'hotpath', 'hotPath', 'cvs', 'pins', 'passes',
      'username', 'user_id', '', '_', 'Grüße_x', 'xpin', 'pinx', '2pin',
    ]) expect(words.matches(name), name).toBe(false);
  });

  it('treats a letter or digit beyond ASCII as part of a word, and other characters as separators', () => {
    expect(words.matches('épin')).toBe(false);
    expect(words.matches('pinß')).toBe(false);
    expect(words.matches('Grüße·pin')).toBe(true);
    expect(words.matches('ｐｉｎ')).toBe(false); // full-width: the Redactor matches it after NFKC
  });

  it('refuses a listed word that is not lower-case ASCII', () => {
    expect(() => new WordMatcher(['PIN'], [])).toThrow(/lower-case ASCII/);
    expect(() => new WordMatcher([], [[['a-b'], ['c']]])).toThrow(/lower-case ASCII/);
  });
});
