// Expected values of every line of fixtures/tegrastats/*.txt, written by reading each line.
// cpu: one entry per core, "load@MHz", "load" (no frequency printed) or "off".
// gpu: [load or null when only a frequency is printed, ...frequencies in MHz]; absent: no GR3D field.
// temps: lowercased zone=celsius, without PMIC and -256C (no sensor). rails: NAME=current/average (mW).
// ram/swap: MB as printed; swap is [used, total, cached].

export interface LineExpect {
  ram: [number, number];
  swap?: [number, number, number];
  cpu: string;
  gpu?: [number | null, ...number[]];
  temps: string;
  rails: string;
}

const rep = (entry: string, n: number): string => Array(n).fill(entry).join(' ');
const tx2Rails = (a: string): string => {
  const [i, c, g, s, w, d] = a.split(' ');
  return `VDD_IN=${i} VDD_CPU=${c} VDD_GPU=${g} VDD_SOC=${s} VDD_WIFI=${w} VDD_DDR=${d}`;
};
const tx2SysRails = (a: string): string => {
  const [g, s, w, i, c, d] = a.split(' ');
  return `VDD_SYS_GPU=${g} VDD_SYS_SOC=${s} VDD_4V0_WIFI=${w} VDD_IN=${i} VDD_SYS_CPU=${c} VDD_SYS_DDR=${d}`;
};
const nanoRails = (a: string): string => {
  const [i, g, c] = a.split(' ');
  return `POM_5V_IN=${i} POM_5V_GPU=${g} POM_5V_CPU=${c}`;
};
const nxRails = (a: string): string => {
  const [i, c, s] = a.split(' ');
  return `VDD_IN=${i} VDD_CPU_GPU_CV=${c} VDD_SOC=${s}`;
};
const orinRails = (a: string): string => {
  const [g, c, v] = a.split(' ');
  return `VDD_GPU_SOC=${g} VDD_CPU_CV=${c} VIN_SYS_5V0=${v}`;
};
const thorRails = (a: string): string => {
  const [g, c, v] = a.split(' ');
  return `VDD_GPU=${g} VDD_CPU_SOC_MSS=${c} VIN_SYS_5V0=${v}`;
};
const loads = (l: string, freq: number): string =>
  l
    .split(',')
    .map((x) => (x === 'off' ? 'off' : `${x}@${freq}`))
    .join(' ');
const tx2Temps = (b: string, g: string, ao: string, td: string, th: string): string =>
  `bcpu=${b} mcpu=${b} gpu=${g} pll=${b} ao=${ao} tboard=29 tdiode=${td} thermal=${th}`;
const tx2SysTemps = (p: string, tb: string, g: string, th: string, td: string): string =>
  `pll=${p} mcpu=${p} tboard=${tb} gpu=${g} bcpu=${p} thermal=${th} tdiode=${td}`;
const nanoTemps = (pll: string, cpu: string, gpu: string, ao: string, th: string): string =>
  `pll=${pll} cpu=${cpu} gpu=${gpu} ao=${ao} thermal=${th}`;
const nxTemps = (aux: string, cpu: string, th: string, ao: string, gpu: string): string =>
  `aux=${aux} cpu=${cpu} thermal=${th} ao=${ao} gpu=${gpu}`;
const orinTemps = (cpu: string, s2: string, s0: string, gpu: string, tj: string, s1: string): string =>
  `cpu=${cpu} soc2=${s2} soc0=${s0} gpu=${gpu} tj=${tj} soc1=${s1}`;

const NANO_SWAP: [number, number, number] = [0, 4096, 0];
const NX_SWAP: [number, number, number] = [542, 3417, 2];
const JP6_SWAP: [number, number, number] = [0, 31420, 0];
const OFF4 = ' off off off off';

export const EXPECTED: Record<string, LineExpect[]> = {
  'tx1.txt': [
    {
      ram: [1179, 3983],
      cpu: '1@102 4@102 0@102 0@102',
      gpu: [0, 76],
      temps: 'ao=42.5 cpu=37.5 gpu=39 pll=37 tdiode=42.75 tboard=42 thermal=38.5',
      rails: 'VDD_IN=2532/2698 VDD_CPU=76/178 VDD_GPU=19/19',
    },
    { ram: [3691, 3983], swap: [2780, 8192, 284], cpu: loads('0,0,0,0', 1734), gpu: [0, 998], temps: '', rails: '' },
    { ram: [3691, 3983], swap: [2780, 8192, 284], cpu: loads('1,0,4,0', 1734), gpu: [0, 998], temps: '', rails: '' },
    { ram: [3468, 3983], swap: [873, 8192, 295], cpu: loads('17,13,29,5', 408), gpu: [3, 76], temps: '', rails: '' },
    { ram: [3607, 3983], swap: [873, 8192, 281], cpu: loads('17,11,65,0', 1734), gpu: [39, 76], temps: '', rails: '' },
  ],
  'tx2.txt': [
    { ram: [2633, 7850], cpu: loads('0,0,0,0,0,0', 2035), temps: tx2Temps('35', '41', '32', '31.25', '33.8'), rails: tx2Rails('3624/3624 696/696 371/371 650/650 0/0 881/881') },
    { ram: [2631, 7850], cpu: loads('18,0,7,13,22,16', 2035), temps: tx2Temps('34.5', '40.5', '32.5', '31.25', '34'), rails: tx2Rails('3642/3633 695/695 370/370 649/649 0/0 881/881') },
    { ram: [2631, 7850], cpu: loads('16,0,9,5,40,4', 2035), temps: tx2Temps('35', '41', '32.5', '31.25', '33.5'), rails: tx2Rails('3621/3629 696/695 370/370 649/649 0/0 881/881') },
    { ram: [2632, 7850], cpu: loads('29,0,9,12,24,18', 2035), temps: tx2Temps('35', '41', '32', '31.5', '33.7'), rails: tx2Rails('3691/3644 742/707 370/370 649/649 0/0 900/885') },
    { ram: [2632, 7850], cpu: loads('17,0,6,5,15,25', 2035), temps: tx2Temps('35', '41', '32', '31.25', '33.7'), rails: tx2Rails('3603/3636 696/705 371/370 650/649 0/0 881/884') },
    { ram: [2632, 7850], cpu: loads('16,0,8,13,26,11', 2035), temps: tx2Temps('34.5', '40.5', '32.5', '31', '33.7'), rails: tx2Rails('3603/3630 696/703 371/370 650/649 0/0 881/884') },
    { ram: [2632, 7850], cpu: loads('16,0,8,8,29,11', 2035), temps: tx2Temps('34.5', '40.5', '32.5', '31.25', '33.7'), rails: tx2Rails('3605/3627 697/702 371/370 650/649 0/0 881/883') },
    { ram: [2632, 7850], cpu: loads('13,0,8,8,29,13', 2035), temps: tx2Temps('34.5', '40.5', '32.5', '31.25', '34'), rails: tx2Rails('3580/3621 696/701 371/370 650/649 0/0 881/883') },
    { ram: [2632, 7850], cpu: loads('13,0,7,6,26,13', 2035), temps: tx2Temps('34.5', '40.5', '32', '31.25', '34'), rails: tx2Rails('3605/3619 697/701 371/370 651/649 0/0 881/883') },
    { ram: [2632, 7850], cpu: loads('11,0,8,7,35,12', 2035), temps: tx2Temps('35', '41', '32', '31.25', '34'), rails: tx2Rails('3626/3620 696/700 371/370 650/649 0/0 862/881') },
    {
      ram: [284, 7860],
      cpu: '48@2034 off off 53@2034 43@2033 41@2034',
      gpu: [null, 0],
      temps: tx2SysTemps('29.5', '26', '27.5', '28.7', '25'),
      rails: tx2SysRails('192/192 529/529 38/38 3566/3566 1156/1156 902/902'),
    },
    {
      ram: [288, 7860],
      cpu: '45@2033 off off 39@2030 43@2030 42@2033',
      gpu: [null, 0],
      temps: tx2SysTemps('29.5', '26', '27.5', '28.7', '25'),
      rails: tx2SysRails('192/192 529/529 38/38 3445/3505 1060/1108 883/892'),
    },
    {
      ram: [2344, 7852],
      swap: [0, 3926, 0],
      cpu: '1@345 off off 1@345 0@345 2@345',
      gpu: [0, 624],
      temps: tx2SysTemps('37.5', '32', '35', '36.5', '34.25'),
      rails: tx2SysRails('152/152 687/687 0/0 3056/3056 152/152 883/883'),
    },
    {
      ram: [1345, 7829],
      swap: [0, 512, 0],
      cpu: '2@345 off off off off off',
      gpu: [0, 114],
      temps: 'bcpu=35 mcpu=35 gpu=41 pll=35 ao=35.5 tboard=35 tdiode=36 thermal=35.5',
      rails: tx2Rails('2003/2658 320/518 400/735 400/415 0/0 240/348'),
    },
    {
      ram: [3276, 7859],
      swap: [1626, 12122, 181],
      cpu: '44@1421 49@2031 67@2034 17@1420 25@1419 8@1420',
      gpu: [0, 114],
      temps: tx2SysTemps('42.5', '38', '39.5', '41.3', '39.25'),
      rails: tx2SysRails('182/182 730/730 0/0 5297/5297 1917/1917 1241/1241'),
    },
  ],
  'nano.txt': [
    { ram: [936, 3964], swap: NANO_SWAP, cpu: '10@102 3@102 0@102 0@102', gpu: [0, 76], temps: nanoTemps('24', '27.5', '28', '29.5', '28'), rails: nanoRails('920/920 0/0 119/119') },
    { ram: [958, 3964], swap: NANO_SWAP, cpu: loads('3,0,7,19', 1479), gpu: [0, 76], temps: nanoTemps('24.5', '27.5', '28.5', '29', '28'), rails: nanoRails('1537/1228 0/0 472/295') },
    { ram: [1095, 3964], swap: NANO_SWAP, cpu: loads('72,12,8,26', 1479), gpu: [42, 76], temps: nanoTemps('25', '28.5', '25', '30', '28'), rails: nanoRails('2793/1750 76/25 1222/604') },
    { ram: [1134, 3964], swap: NANO_SWAP, cpu: loads('24,8,39,48', 1479), gpu: [0, 76], temps: nanoTemps('25', '28', '25', '30', '28'), rails: nanoRails('2760/2002 115/47 1186/749') },
    { ram: [1182, 3964], swap: NANO_SWAP, cpu: loads('0,4,100,7', 1479), gpu: [48, 76], temps: nanoTemps('25', '28.5', '25', '30', '28'), rails: nanoRails('2688/2139 115/61 1226/845') },
    { ram: [1174, 3964], swap: NANO_SWAP, cpu: loads('8,53,50,8', 1479), gpu: [0, 76], temps: nanoTemps('25', '29', '25.5', '30', '27'), rails: nanoRails('2361/2176 77/63 927/858') },
    { ram: [1210, 3964], swap: NANO_SWAP, cpu: loads('18,32,4,61', 1479), gpu: [45, 76], temps: nanoTemps('25.5', '28', '25.5', '30', '27'), rails: nanoRails('2654/2244 76/65 1152/900') },
    { ram: [1230, 3964], swap: NANO_SWAP, cpu: loads('91,8,23,4', 1479), gpu: [1, 76], temps: nanoTemps('25', '29', '25.5', '30', '27'), rails: nanoRails('2760/2309 115/71 1224/941') },
    { ram: [1267, 3964], swap: NANO_SWAP, cpu: loads('33,4,16,73', 1479), gpu: [17, 76], temps: nanoTemps('26', '28.5', '25.5', '30', '27'), rails: nanoRails('2793/2362 114/76 1260/976') },
    { ram: [1306, 3964], swap: NANO_SWAP, cpu: loads('4,11,12,96', 1479), gpu: [32, 76], temps: nanoTemps('25.5', '28.5', '25.5', '30', '27'), rails: nanoRails('2793/2405 114/80 1262/1005') },
    { ram: [1315, 3964], swap: NANO_SWAP, cpu: '11@1036 4@1036 7@1036 80@307', gpu: [71, 76], temps: nanoTemps('25', '28.5', '25', '30', '27'), rails: nanoRails('2323/2398 116/83 542/962') },
    { ram: [1333, 3964], swap: NANO_SWAP, cpu: loads('12,8,12,77', 518), gpu: [28, 153], temps: nanoTemps('25.5', '28.5', '25.5', '30', '27'), rails: nanoRails('2726/2425 115/86 1188/981') },
    { ram: [534, 3964], swap: [5, 1982, 1], cpu: loads('16,9,0,0', 204), gpu: [0, 76], temps: nanoTemps('34', '36.5', '36', '39.5', '36.25'), rails: nanoRails('1022/1022 0/0 204/204') },
    { ram: [613, 3964], swap: [0, 1982, 0], cpu: loads('2,1,0,0', 102), gpu: [0], temps: nanoTemps('39', '40.5', '41', '46', '41'), rails: nanoRails('900/943 0/0 123/123') },
  ],
  'agx-xavier.txt': [
    {
      ram: [1736, 15827],
      cpu: '1@1160 2@1161 0@1189 0@1189' + OFF4,
      gpu: [0, 114],
      temps: 'ao=29 gpu=30 iwlwifi=34 tboard=30 tdiode=33 aux=29 cpu=30 thermal=29.45',
      rails: 'GPU=466/466 CPU=466/466 SOC=932/932 CV=0/0 VDDRQ=0/0 SYS5V=1854/1854',
    },
    {
      ram: [1733, 15827],
      cpu: loads('1,0,0,0,off,off,off,off', 1190),
      gpu: [4],
      temps: 'ao=25.5 gpu=26.5 iwlwifi=32 tboard=27 tdiode=29.75 aux=25.5 cpu=26.5 thermal=26.1',
      rails: 'GPU=621/621 CPU=465/465 SOC=1397/1397 CV=0/0 VDDRQ=0/0 SYS5V=2053/2053',
    },
    {
      ram: [721, 31927],
      swap: [0, 15963, 0],
      cpu: loads('2,0,0,0,off,off,off,off', 1190),
      gpu: [0, 318],
      temps: 'ao=37.5 gpu=37.5 tdiode=40 aux=36 cpu=37.5 thermal=36.9 tboard=37',
      rails: 'GPU=0/0 CPU=311/311 SOC=932/932 CV=0/0 VDDRQ=621/621 SYS5V=1482/1482',
    },
    {
      ram: [4083, 31919],
      swap: [0, 15959, 0],
      cpu: loads('0,0,0,1,off,off,off,off', 1190),
      gpu: [0],
      temps: 'ao=42 gpu=42 tdiode=44.75 aux=41.5 cpu=42 thermal=41.6 tboard=41',
      rails: 'GPU=0/16 CPU=310/432 SOC=931/953 CV=0/0 VDDRQ=466/488 SYS5V=1522/1559',
    },
  ],
  'xavier-nx.txt': [
    { ram: [2274, 6834], swap: NX_SWAP, cpu: '99@1189 100@1188 100@1189 98@1189 off off', gpu: [22], temps: nxTemps('36.5', '40', '37.85', '37.5', '38'), rails: nxRails('5542/5542 1594/1594 1234/1234') },
    { ram: [2303, 6834], swap: NX_SWAP, cpu: '100@1190 100@1190 100@1189 100@1189 off off', gpu: [32], temps: nxTemps('36.5', '40', '38', '37.5', '38'), rails: nxRails('5542/5542 1674/1634 1236/1235') },
    { ram: [2338, 6834], swap: NX_SWAP, cpu: '100@1189 100@1189 100@1190 100@1190 off off', gpu: [0], temps: nxTemps('36.5', '40', '38', '37.5', '38'), rails: nxRails('5542/5542 1594/1620 1234/1234') },
    { ram: [2374, 6834], swap: NX_SWAP, cpu: rep('100@1190', 4) + ' off off', gpu: [0], temps: nxTemps('37', '40', '38', '37.5', '38'), rails: nxRails('5582/5552 1634/1624 1234/1234') },
    { ram: [2419, 6834], swap: NX_SWAP, cpu: '100@1189 97@1189 100@1190 100@1190 off off', gpu: [0], temps: nxTemps('36.5', '40', '38', '37.5', '38'), rails: nxRails('5582/5558 1674/1634 1236/1234') },
    { ram: [2452, 6834], swap: NX_SWAP, cpu: '100@1190 100@1189 100@1189 100@1189 off off', gpu: [14], temps: nxTemps('36.5', '40', '38', '37.5', '38'), rails: nxRails('5542/5555 1594/1627 1236/1235') },
    { ram: [2492, 6834], swap: NX_SWAP, cpu: '100@1189 100@1189 100@1190 100@1190 off off', gpu: [0], temps: nxTemps('36.5', '40', '38', '37.5', '38'), rails: nxRails('5542/5553 1594/1622 1234/1234') },
    { ram: [2532, 6834], swap: NX_SWAP, cpu: '100@1189 100@1190 100@1190 98@1190 off off', gpu: [0], temps: nxTemps('36.5', '40', '38', '37.5', '38'), rails: nxRails('5621/5561 1674/1629 1236/1235') },
    { ram: [3635, 6834], swap: NX_SWAP, cpu: '100@1189 100@1189 100@1189 100@1190 off off', gpu: [0], temps: nxTemps('37', '40', '38.2', '37.5', '38'), rails: nxRails('5582/5564 1594/1625 1236/1235') },
    { ram: [5408, 6834], swap: NX_SWAP, cpu: '100@1188 100@1190 100@1190 100@1190 off off', gpu: [0], temps: nxTemps('37', '40', '38.2', '37.5', '38'), rails: nxRails('5821/5589 1714/1634 1273/1238') },
    { ram: [5447, 6834], swap: NX_SWAP, cpu: '100@1190 100@1189 100@1189 100@1190 off off', gpu: [0], temps: nxTemps('37', '40.5', '38.2', '37.5', '38'), rails: nxRails('5701/5599 1714/1641 1234/1238') },
    { ram: [5453, 6834], swap: NX_SWAP, cpu: '100@1190 99@1190 100@1189 100@1190 off off', gpu: [99], temps: nxTemps('37', '40.5', '38.2', '38', '41'), rails: nxRails('9315/5909 4371/1868 1589/1267') },
    { ram: [5451, 6834], swap: NX_SWAP, cpu: '100@1190 100@1190 100@1190 96@1190 off off', gpu: [99], temps: nxTemps('37', '41', '39.7', '39', '42.5'), rails: nxRails('13353/6482 7340/2289 1944/1319') },
    { ram: [5451, 6834], swap: NX_SWAP, cpu: rep('100@1190', 4) + ' off off', gpu: [99], temps: nxTemps('37', '41', '40', '39.5', '43'), rails: nxRails('13671/6995 7578/2667 1984/1367') },
    { ram: [5453, 6834], swap: NX_SWAP, cpu: '100@1189 100@1189 99@1190 100@1190 off off', gpu: [99], temps: nxTemps('37.5', '41.5', '40.15', '39.5', '43.5'), rails: nxRails('13552/7432 7618/2997 1944/1405') },
    { ram: [5454, 6834], swap: NX_SWAP, cpu: rep('100@1190', 4) + ' off off', gpu: [99], temps: nxTemps('37.5', '42', '40.5', '40', '43.5'), rails: nxRails('13671/7822 7658/3288 1944/1439') },
    { ram: [5453, 6834], swap: NX_SWAP, cpu: '99@1190 100@1189 100@1190 100@1189 off off', gpu: [99], temps: nxTemps('38', '42', '41', '40', '44'), rails: nxRails('13552/8159 7539/3538 1984/1471') },
    { ram: [5453, 6834], swap: NX_SWAP, cpu: rep('100@1190', 4) + ' off off', gpu: [99], temps: nxTemps('38', '42.5', '41', '40.5', '44'), rails: nxRails('13512/8456 7182/3741 2063/1504') },
    { ram: [5453, 6834], swap: NX_SWAP, cpu: '100@1190 100@1189 100@1190 100@1190 off off', gpu: [99], temps: nxTemps('38', '42.5', '41', '41', '44.5'), rails: nxRails('13671/8731 7578/3943 1984/1529') },
    { ram: [5453, 6834], swap: NX_SWAP, cpu: rep('100@1190', 4) + ' off off', gpu: [99], temps: nxTemps('38.5', '43', '41.5', '41', '44.5'), rails: nxRails('13791/8984 7697/4130 1984/1552') },
  ],
  'orin-jp5.txt': [
    {
      ram: [4321, 62801],
      swap: [19, 31400, 0],
      cpu: rep('0@729', 12),
      gpu: [0, 0, 0],
      temps: 'cpu=44.562 tboard=32 soc2=40.093 tdiode=33 soc0=41.093 tj=44.343 soc1=41.25',
      rails: 'VDD_GPU_SOC=2340/2340 VDD_CPU_CV=390/390 VIN_SYS_5V0=4025/4025 VDDQ_VDD2_1V8AO=301/301',
    },
    {
      ram: [6334, 15388],
      swap: [491, 7694, 0],
      cpu: loads('6,9,5,16,off,off,off,off', 729),
      gpu: [0, 611],
      temps: 'cv0=45.812 cpu=47.937 soc2=46.093 soc0=46.968 cv1=46.406 gpu=45.875 tj=48.875 soc1=48.875 cv2=45.75',
      rails: 'VDD_IN=5299/5299 VDD_CPU_GPU_CV=773/773 VDD_SOC=1424/1424',
    },
  ],
  'orin-jp6.txt': [
    { ram: [17953, 62841], swap: JP6_SWAP, cpu: '7@1728 31@1036 7@1036 42@1036 4@1420 5@729 6@729 1@729' + OFF4, gpu: [39, 305, 0], temps: orinTemps('43.906', '40.406', '41.187', '40.093', '43.906', '40.437'), rails: orinRails('2798/2798 799/799 3315/3315') },
    { ram: [17955, 62841], swap: JP6_SWAP, cpu: '20@1728 13@1036 2@1036 42@1036 1@729 8@729 5@729 1@729' + OFF4, gpu: [40, 305, 0], temps: orinTemps('43.625', '40.468', '40.968', '40.062', '43.625', '40.375'), rails: orinRails('2797/2798 799/799 3215/3265') },
    { ram: [17956, 62841], swap: JP6_SWAP, cpu: '9@960 66@960 1@960 0@960 3@729 9@729 7@729 2@729' + OFF4, gpu: [35, 305, 0], temps: orinTemps('43.468', '40.562', '41.062', '39.781', '43.75', '40.281'), rails: orinRails('2798/2798 799/799 3215/3248') },
    { ram: [17956, 62841], swap: JP6_SWAP, cpu: '33@1728 41@960 3@960 0@960 5@729 1@729 3@729 6@729' + OFF4, gpu: [32, 305, 0], temps: orinTemps('43.875', '40.5', '41.093', '40.187', '43.875', '40.406'), rails: orinRails('2798/2798 799/799 3114/3215') },
    { ram: [17956, 62841], swap: JP6_SWAP, cpu: '30@1728 46@1113 4@1113 0@1113 1@729 2@729 3@729 8@729' + OFF4, gpu: [41, 305, 0], temps: orinTemps('43.625', '40.5', '41.031', '39.812', '43.625', '40.593'), rails: orinRails('2798/2798 799/799 3215/3215') },
    { ram: [17954, 62841], swap: JP6_SWAP, cpu: '69@1728 8@1113 2@1113 0@1113 0@729 2@729 3@729 7@729' + OFF4, gpu: [39, 305, 0], temps: orinTemps('43.531', '40.562', '41.156', '40.062', '43.531', '40.437'), rails: orinRails('2798/2798 799/799 3215/3215') },
    { ram: [17954, 62841], swap: JP6_SWAP, cpu: '24@1728 51@908 3@909 1@1036 1@729 2@729 6@729 8@729' + OFF4, gpu: [39, 305, 0], temps: orinTemps('43.718', '40.531', '41.062', '39.937', '43.718', '40.437'), rails: orinRails('2798/2798 799/799 3114/3200') },
    { ram: [17954, 62841], swap: JP6_SWAP, cpu: '45@1728 2@1113 2@1113 0@1113 3@729 30@729 1@729 7@729' + OFF4, gpu: [41, 305, 0], temps: orinTemps('43.562', '40.531', '41.031', '40.031', '43.562', '40.656'), rails: orinRails('2798/2798 799/799 3114/3190') },
    { ram: [17955, 62841], swap: JP6_SWAP, cpu: '61@1728 2@1036 16@1036 6@1036 2@729 0@729 3@729 2@729' + OFF4, gpu: [39, 305, 0], temps: orinTemps('43.531', '40.562', '41.093', '40.25', '43.531', '40.343'), rails: orinRails('2798/2798 799/799 3114/3181') },
    { ram: [17955, 62841], swap: JP6_SWAP, cpu: '73@1728 5@1113 4@1113 7@1113 1@729 0@729 4@729 0@729' + OFF4, gpu: [39, 305, 0], temps: orinTemps('43.656', '40.562', '41.062', '40.031', '43.656', '40.406'), rails: orinRails('2798/2798 799/799 3114/3175') },
    { ram: [17956, 62841], swap: JP6_SWAP, cpu: loads('31,40,4,6,0,1,2,2', 729) + OFF4, gpu: [1, 305, 0], temps: orinTemps('43.718', '40.593', '41.125', '39.812', '43.718', '40.468'), rails: orinRails('2798/2798 399/763 3114/3169') },
    { ram: [17957, 62841], swap: JP6_SWAP, cpu: '4@1728 1@806 0@806 9@806 0@729 2@729 3@729 0@729' + OFF4, gpu: [0, 305, 0], temps: orinTemps('43.781', '40.562', '41.125', '39.968', '43.531', '40.468'), rails: orinRails('2399/2765 399/732 2712/3131') },
    { ram: [17957, 62841], swap: JP6_SWAP, cpu: '1@729 0@729 1@729 9@729 2@1420 4@729 5@729 0@729' + OFF4, gpu: [0, 305, 0], temps: orinTemps('43.531', '40.531', '41.187', '40.156', '43.531', '40.406'), rails: orinRails('2399/2737 399/707 2712/3099') },
    { ram: [17958, 62841], swap: JP6_SWAP, cpu: '3@1728 1@1651 3@1497 7@1497 3@1344 0@1344 9@1344 0@1344' + OFF4, gpu: [0, 305, 0], temps: orinTemps('43.687', '40.531', '41.093', '39.781', '43.687', '40.375'), rails: orinRails('2399/2712 399/685 2813/3078') },
    { ram: [17957, 62841], swap: JP6_SWAP, cpu: '3@806 3@729 2@729 6@729 2@729 0@729 5@729 0@729' + OFF4, gpu: [0, 305, 0], temps: orinTemps('43.437', '40.531', '41.218', '39.843', '43.437', '40.437'), rails: orinRails('2399/2692 399/666 2813/3061') },
    {
      ram: [18207, 62841],
      swap: [86, 31420, 0],
      cpu: '14@2188 5@2112 8@2035 14@2201 46@1267 47@1267 2@1267 10@1267 4@1036 5@1036 6@1036 10@1036',
      gpu: [0, 0, 0],
      temps: 'cpu=52.562 soc2=48.437 soc0=49.093 tj=52.562 soc1=49.656',
      rails: orinRails('2412/2412 1607/1607 4707/4707'),
    },
    {
      ram: [18202, 62841],
      swap: [86, 31420, 0],
      cpu: '16@1949 6@1761 4@1222 4@2201 4@1036 33@1036 0@1036 40@1036 3@1190 46@1190 6@1190 2@1190',
      gpu: [0, 0, 0],
      temps: 'cpu=52.343 soc2=48.343 soc0=49.062 tj=52.343 soc1=49.531',
      rails: orinRails('2412/2412 1607/1607 4607/4657'),
    },
    {
      ram: [18203, 62841],
      swap: [86, 31420, 0],
      cpu: '14@729 5@1648 4@1645 3@2050 3@1113 0@1113 0@1113 70@1113 4@1651 32@1651 3@1651 15@1651',
      gpu: [0, 0, 0],
      temps: 'cpu=52.156 soc2=48.468 soc0=49.218 tj=52.156 soc1=49.625',
      rails: orinRails('2412/2412 1607/1607 4707/4674'),
    },
    {
      ram: [2448, 62840],
      swap: [0, 31420, 0],
      cpu: rep('0@2201', 12),
      gpu: [0],
      temps: orinTemps('42', '37.843', '39.187', '37.75', '42', '37.937'),
      rails: orinRails('4940/4940 988/988 4442/4442'),
    },
  ],
  'orin-jp7.txt': [
    {
      ram: [20642, 62817],
      cpu: loads('23,10,4,14,30,18,10,10,33,7,5,27', 2201),
      gpu: [12, 1300, 1300],
      temps: 'cpu=52.968 soc2=48.406 soc0=49.531 gpu=47.625',
      rails: orinRails('5139/5139 3268/3268 5500/5500'),
    },
    {
      ram: [4714, 62878],
      swap: [0, 2048, 0],
      cpu: '78@1728 33@1728 46@1728 55@1728 49@729 48@729 37@729 57@729' + OFF4,
      gpu: [0, 0, 0],
      temps: 'cpu=50.718 soc2=47.656 soc0=47.156 tj=50.718 soc1=49',
      rails: orinRails('2265/2265 2643/2643 4722/4722'),
    },
  ],
  'orin-nano.txt': [
    {
      ram: [6185, 7620],
      swap: [851, 3810, 1],
      cpu: loads('15,11,14,13,11,8', 729),
      gpu: [63, 621],
      temps: orinTemps('53.968', '52.437', '50.75', '53.343', '53.968', '51.656'),
      rails: 'VDD_IN=12479/12479 VDD_CPU_GPU_CV=4667/4667 VDD_SOC=2817/2817',
    },
    {
      ram: [3452, 7620],
      swap: [1518, 16384, 174],
      cpu: '1@1420 2@1420 0@1420 2@1420 2@729 1@729',
      gpu: [0],
      temps: orinTemps('50.031', '49.031', '50', '49.031', '50.25', '50.25'),
      rails: 'VDD_IN=4824/4824 VDD_CPU_GPU_CV=518/518 VDD_SOC=1475/1475',
    },
  ],
  'thor.txt': [
    { ram: [4208, 125773], swap: [0, 2048, 0], cpu: loads('1,0,0,0,1,0,1,1,0,0,3,0,0,1', 972), gpu: [null, 0, 0, 0], temps: 'cpu=34.468 tj=34.5 soc012=33.781 soc345=34.5', rails: thorRails('0/0 4165/4165 4126/4126') },
    {
      ram: [4280, 125773],
      swap: [0, 2048, 0],
      cpu: '0@972 0@972 0@972 0@972 1@972 0@972 1@972 0@972 0@2601 17@2601 1@972 9@972 0@972 1@972',
      gpu: [null, 0, 0, 0],
      temps: 'cpu=35.25 tj=36.031 soc012=36.062 soc345=34.5',
      rails: thorRails('0/0 4923/4544 4327/4227'),
    },
    { ram: [4309, 125773], swap: [0, 2048, 0], cpu: loads('9,2,1,0,2,11,9,17,1,20,2,2,16,3', 972), gpu: [null, 0, 0, 0], temps: 'cpu=34.468 tj=34.468 soc012=33.843 soc345=34.468', rails: thorRails('0/0 4544/4544 4428/4294') },
    {
      ram: [9101, 125811],
      swap: [0, 2048, 0],
      cpu: '39@2160 20@2160 16@1944 15@1944 17@972 15@972 19@2214 22@2214 13@2430 20@2430 26@972 19@972 15@1836 22@1836',
      gpu: [null, 314, 314, 314],
      temps: 'cpu=34.843 tj=35.906 soc012=34.437 gpu=35.906 soc345=34.406',
      rails: thorRails('4925/4925 8710/8710 6767/6767'),
    },
    {
      ram: [9091, 125811],
      swap: [0, 2048, 0],
      cpu: loads('40,16,18,20,13,11,15,19,10,15,28,11,11,15', 972),
      gpu: [null, 314, 314, 314],
      temps: 'cpu=34.312 tj=35.906 soc012=34.093 gpu=35.906 soc345=34.437',
      rails: thorRails('4925/4925 7953/8332 6667/6717'),
    },
  ],
};
