// Published checkpoints the page offers beside the demo model: one click fills the URL field
// with the repository's resolve/main/ folder (Hugging Face serves Range requests with CORS).
// Sizes are the weight files' (f32 unless said); the family is picked from config.json.

export interface HubModel {
  repo: string;
  name: string;
  family: string;
  size: string;
  /** Small enough to try on any laptop. */
  small?: boolean;
}

export const HUB_MODELS: readonly HubModel[] = [
  { repo: 'facebook/esm2_t6_8M_UR50D', name: 'ESM-2 8M', family: 'esm', size: '31 MB', small: true },
  { repo: 'facebook/esm2_t12_35M_UR50D', name: 'ESM-2 35M', family: 'esm', size: '136 MB', small: true },
  { repo: 'facebook/esm2_t30_150M_UR50D', name: 'ESM-2 150M', family: 'esm', size: '600 MB' },
  { repo: 'facebook/esm2_t33_650M_UR50D', name: 'ESM-2 650M', family: 'esm', size: '2.6 GB' },
  { repo: 'Rostlab/prot_t5_xl_half_uniref50-enc', name: 'ProtT5-XL-U50 (encoder, f16)', family: 't5', size: '2.4 GB' },
  { repo: 'Rostlab/prot_bert', name: 'ProtBert', family: 'bert', size: '1.7 GB' },
  { repo: 'Rostlab/prot_bert_bfd', name: 'ProtBert-BFD', family: 'bert', size: '1.7 GB' },
  { repo: 'Rostlab/prot_electra_discriminator_bfd', name: 'ProtElectra (discriminator)', family: 'electra', size: '1.7 GB' },
  { repo: 'Rostlab/prot_albert', name: 'ProtAlbert', family: 'albert', size: '0.9 GB' },
  { repo: 'Rostlab/prot_xlnet', name: 'ProtXLNet', family: 'xlnet', size: '1.6 GB' },
];

export const hubUrl = (repo: string): string => `https://huggingface.co/${repo}/resolve/main/`;

/** Fills `list` with one button per model; `pick` gets the model's folder URL. */
export function renderHubModels(list: HTMLElement, pick: (url: string) => void): void {
  list.replaceChildren(
    ...HUB_MODELS.map((m) => {
      const li = document.createElement('li');
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'small link';
      b.textContent = m.name;
      b.title = hubUrl(m.repo);
      b.dataset.repo = m.repo;
      b.addEventListener('click', () => pick(hubUrl(m.repo)));
      const info = document.createElement('small');
      info.textContent = ` ${m.repo} · ${m.family} · ${m.size}${m.small ? ' · small: fine on any laptop' : ''}`;
      li.append(b, info);
      return li;
    }),
  );
}
