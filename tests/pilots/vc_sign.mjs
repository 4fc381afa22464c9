// Signs credentials with Data Integrity `eddsa-jcs-2022` using Digital Bazaar's libraries, so that
// civiclab's verifier is checked against proofs it did not create.
// Reads {"credentials": [...], "seedHex": "<32 bytes>"} on stdin; the key's did:key is the issuer.
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {createSignCryptosuite} from '@digitalbazaar/eddsa-jcs-2022-cryptosuite';
import jsigs from 'jsonld-signatures';

const {purposes: {AssertionProofPurpose}} = jsigs;

let input = '';
for await (const chunk of process.stdin) {
  input += chunk;
}
const {credentials, seedHex} = JSON.parse(input);
const keyPair = await Ed25519Multikey.generate({seed: Buffer.from(seedHex, 'hex')});
const did = `did:key:${keyPair.publicKeyMultibase}`;
keyPair.controller = did;
keyPair.id = `${did}#${keyPair.publicKeyMultibase}`;

const offline = async url => {
  throw new Error(`offline: refusing to load ${url}`);
};
const signed = [];
for (const credential of credentials) {
  const suite = new DataIntegrityProof({
    signer: keyPair.signer(), cryptosuite: createSignCryptosuite(),
  });
  suite.date = credential.validFrom;
  signed.push(await jsigs.sign({...credential, issuer: did}, {
    suite, purpose: new AssertionProofPurpose(), documentLoader: offline,
  }));
}
process.stdout.write(JSON.stringify(signed));
