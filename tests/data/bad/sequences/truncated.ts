@problemName demo
@timeStamps false
@univariate true
@classLabel true a b
@data
0,1,2,3,4,5,6,7,8,9:a
1,2,3,4,5,6,7,8,9,10:a
2,3,4,5,6,7,8,9,10,11:a
3,4,5,6,7,8,9,10,11,12:a
4,5,6,7,8,9,10,11,12,13:a
5,6,7,8,9,10,11,12,13,14:a
1,2,3,